"""Mail in and out, on the app side: ingest into tickets, polling, automatic replies."""
