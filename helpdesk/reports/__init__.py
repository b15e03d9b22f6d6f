"""Managers' reports: response times, SLA compliance, volume, backlog and intake quality."""
