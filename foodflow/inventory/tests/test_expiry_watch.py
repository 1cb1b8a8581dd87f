from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from foodflow.core.models import Notification
from foodflow.inventory.models import Lot
from foodflow.inventory.selectors import expiry_colour, lots_near_expiry
from foodflow.inventory.services import stock_reserve
from foodflow.inventory.watch import expiry_watch_run

TODAY = timezone.localdate()


def test_the_watch_expires_lots_and_warns_planners_and_reservation_owners_once(make_product, receive, make_user):
    planner, rep = make_user("planner"), make_user("rep")
    milk = make_product()  # category dairy: warning 10 days
    old = receive(milk, "OLD", produced_days_ago=200, expiry_date=TODAY - timedelta(days=1))
    soon = receive(milk, "SOON", produced_days_ago=170, expiry_date=TODAY + timedelta(days=5))
    later = receive(milk, "LATER", produced_days_ago=10, expiry_date=TODAY + timedelta(days=60))
    stock_reserve(by=None, owner=rep, product=milk, quantity=10, reference="SO-1")  # FEFO: from SOON

    assert expiry_watch_run(on=TODAY) == {"expired": 1, "warned": 1}
    old.refresh_from_db()
    assert old.status == "expired"
    assert Notification.objects.filter(kind="lot_near_expiry", recipient=planner).count() == 1
    assert Notification.objects.filter(kind="lot_near_expiry", recipient=rep).count() == 1
    assert "SOON" in Notification.objects.filter(recipient=rep).first().title

    # a second run the same day does the work once
    assert expiry_watch_run(on=TODAY) == {"expired": 0, "warned": 0}
    assert Notification.objects.filter(kind="lot_near_expiry").count() == 2
    assert [item.lot for item in lots_near_expiry(on=TODAY)] == [soon]
    assert later.status == "available"


def test_the_command_runs_the_scheduled_jobs_in_process(make_product, receive, capsys):
    receive(make_product(), "OLD", produced_days_ago=200, expiry_date=TODAY - timedelta(days=3))
    call_command("run_scheduled", "inventory-expiry-watch")
    assert "'expired': 1" in capsys.readouterr().out
    assert Lot.objects.get(lot_number="OLD").status == "expired"


def test_expiry_colours():
    assert [expiry_colour(days, 30) for days in (-1, 0, 10, 11, 30, 31)] == [
        "red",
        "red",
        "red",
        "orange",
        "orange",
        "green",
    ]
