"""The WSGI entry point for gunicorn: ``gunicorn 'helpdesk.wsgi:app'``.

Each worker starts a scheduler; only the one holding the database lock runs the jobs.
"""

from helpdesk import create_app
from helpdesk.scheduler import start_scheduler

app = create_app()
if app.config["SCHEDULER_ENABLED"]:
    start_scheduler(app)
