"""The public web enquiry form: the same tickets as email, with the fields asked up front."""
