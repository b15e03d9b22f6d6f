"""The helpdesk Flask application."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import PROJECT_ROOT, load_config


def create_app(config_name: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: load settings, bind extensions, register blueprints and commands."""
    settings = load_config(config_name, overrides=overrides)
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _trust_proxies(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_commands(app)
    _commit_each_request(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind PROXY_HOPS reverse proxies, take the client's address and scheme from their
    X-Forwarded-* headers (rate limits key on the address); with none, ignore those headers."""
    hops = int(app.config["PROXY_HOPS"])
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )


def _init_extensions(app: Flask) -> None:
    from helpdesk import i18n, models  # noqa: F401  (models registers the tables)
    from helpdesk.auth import login as auth_login
    from helpdesk.extensions import (
        configure_sqlite,
        csrf,
        db,
        limiter,
        login_manager,
        migrate,
        name_connections,
    )

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
        name_connections(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    auth_login.init_login_manager(login_manager)
    i18n.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from helpdesk import devmail, errors
    from helpdesk.admin.views import bp as admin_bp
    from helpdesk.auth.views import bp as auth_bp
    from helpdesk.enquiry.views import bp as enquiry_bp
    from helpdesk.ops.views import bp as ops_bp
    from helpdesk.reports.views import bp as reports_bp
    from helpdesk.security import bound_route_ids, init_security
    from helpdesk.templating import init_templating
    from helpdesk.tickets.views import bp as tickets_bp

    bound_route_ids(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(tickets_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(enquiry_bp)
    if devmail.enabled(app.config):
        from helpdesk.devmail.views import bp as devmail_bp

        app.register_blueprint(devmail_bp)
    app.register_blueprint(ops_bp)
    init_templating(app)
    init_security(app)
    errors.init_app(app)


def _commit_each_request(app: Flask) -> None:
    # Last: its after-request hook runs before the others (metrics, headers), which then see
    # the 500 of a commit that failed.
    from helpdesk import transaction

    transaction.init_app(app)


def _register_commands(app: Flask) -> None:
    from helpdesk.cli import register_commands

    register_commands(app)
