"""Agents' ticket pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from helpdesk.access import visible_desks
from helpdesk.extensions import db
from helpdesk.tickets import queries

bp = Blueprint("tickets", __name__)


@bp.route("/")
@login_required
def index() -> str:
    """The queue of the desks the user works, due first."""
    desks = db.session.scalars(visible_desks(current_user)).all()
    tickets = db.session.scalars(queries.queue(current_user).limit(50)).all()
    return render_template("tickets/index.html", desks=desks, tickets=tickets)
