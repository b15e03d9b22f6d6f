"""Administration: users, desks, calendars, mailboxes, routing, canned answers, quarantine."""
