"""The API's idempotent creation under concurrent retries (PostgreSQL): real threads, each with
its own test client and database connection, released at one barrier."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from foodflow.sales.models import IdempotencyKey, SalesOrder
from foodflow.testing.concurrency import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

JSON = "application/json"


def test_eight_concurrent_posts_with_one_idempotency_key_create_one_order(world):
    token = Token.objects.create(user=world.rep)
    body = {"customer": world.customer.pk, "lines": [{"product": world.milk.pk, "quantity": "12"}]}
    clients = [Client(headers={"Authorization": f"Token {token.key}"}) for _ in range(8)]

    def post(client):
        response = client.post("/api/v1/orders/", body, content_type=JSON, headers={"Idempotency-Key": "erp-retry-1"})
        return response.status_code, response.json(), response.headers.get("Idempotent-Replayed")

    results = run_concurrently(post, [(client,) for client in clients])

    assert [r for r in results if isinstance(r, Exception)] == []
    assert [status for status, _body, _replayed in results] == [201] * 8, [body for _s, body, _r in results]
    assert len({answer["number"] for _status, answer, _replayed in results}) == 1
    assert len({answer["id"] for _status, answer, _replayed in results}) == 1
    # one request did the work; the seven others waited for it and got its stored answer
    assert sorted(str(replayed) for _status, _answer, replayed in results) == ["None"] + ["true"] * 7
    assert SalesOrder.objects.count() == 1
    stored = IdempotencyKey.objects.get()
    assert (stored.user_id, stored.status, stored.response["number"]) == (world.rep.pk, 201, results[0][1]["number"])
