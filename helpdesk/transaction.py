"""The commit points: each request, command, job and outgoing mail commits once, here.

Services only flush. A request commits when its view returned a response under 400 and rolls
back otherwise: on an exception, on an error it returned (``abort``, a redisplayed invalid
form, which answers 400 through ``form_status``). Commands and scheduled jobs run their work
in ``unit_of_work``, which commits once at its end or rolls back if it raises. What must
happen only after the commit (sending mail, marking IMAP messages) happens in a unit of its
own, afterwards (Indico's ``RH.process``).

On SQLite nothing here begins a transaction: a request that never used the database commits
nothing, and a report marked read-only keeps its deferred transaction to the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, request, session
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from werkzeug.wrappers import Response

from helpdesk.extensions import db

_WRITTEN = "helpdesk.transaction.written"  # session.info: flushed since the last commit


def init_app(app: Flask) -> None:
    """Make the app commit each request once, after its view (register after the other
    after-request hooks: it runs first, so they see a failed commit's 500)."""
    app.after_request(_commit_point)
    app.teardown_request(_roll_back_on_error)


def _commit_point(response: Response) -> Response:
    """Commit the request's work if its response is a success or a redirect; else roll back."""
    if db.session.registry.has():
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
    if response.status_code >= 500:
        # What the view flashed ("saved") was not kept: a failed commit lands here too.
        session.pop("_flashes", None)
    return response


def _roll_back_on_error(error: BaseException | None) -> None:
    # An exception that escaped the view (tests let it propagate, past the after-request
    # hooks): nothing it flushed is kept.
    if error is not None and db.session.registry.has():
        db.session.rollback()


def form_status() -> int:
    """The status of a page with a form: 200 when shown, 400 when a submission comes back
    with its errors, so that the request's commit point rolls back whatever it flushed."""
    return 400 if request.method == "POST" else 200


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Run a command's, a job's or one outgoing mail's work: commit once when the block ends,
    roll back when it raises.

    Units do not nest around uncommitted work: one refuses to begin while the session holds
    writes nobody has committed, which its commit would otherwise carry along (the outbox
    would send mail its caller may yet roll back)."""
    if has_uncommitted_writes():
        raise RuntimeError("a unit of work began while the session holds uncommitted writes")
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def has_uncommitted_writes() -> bool:
    """Whether the session has flushed or holds changes that are not committed yet."""
    if not db.session.registry.has():
        return False
    session = db.session()
    return bool(session.info.get(_WRITTEN) or session.new or session.dirty or session.deleted)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, flush_context: Any) -> None:
    session.info[_WRITTEN] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WRITTEN] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction, not a savepoint in it
        session.info.pop(_WRITTEN, None)
