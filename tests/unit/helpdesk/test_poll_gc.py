"""While a poll runs, the cycle collector runs less often; afterwards as before."""

import gc
import threading

import pytest

from helpdesk.mail.polling import fewer_collections


def test_threshold_is_raised_while_polling_and_restored_by_the_last_poll():
    before = gc.get_threshold()
    inside, second_started, first_done = [], threading.Event(), threading.Event()

    def second_poll():
        with fewer_collections():
            second_started.set()
            first_done.wait(5)
            inside.append(gc.get_threshold())

    with fewer_collections():
        inside.append(gc.get_threshold())
        worker = threading.Thread(target=second_poll)
        worker.start()
        assert second_started.wait(5)
    first_done.set()  # the first poll is over; the second still runs
    worker.join(5)
    assert inside[0][0] >= 20_000 and inside[0][1:] == before[1:]
    assert inside[1] == inside[0]  # still raised for the poll that was left running
    assert gc.get_threshold() == before


def test_threshold_is_restored_when_the_poll_raises():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("server went away")
    assert gc.get_threshold() == before
