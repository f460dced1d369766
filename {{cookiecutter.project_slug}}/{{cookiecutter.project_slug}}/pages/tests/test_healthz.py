import pytest


@pytest.mark.django_db
def test_healthz_answers_ok(client):
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_healthz_refuses_post(client):
    assert client.post("/healthz/").status_code == 405


@pytest.mark.django_db
def test_healthz_answers_head_for_load_balancers(client):
    assert client.head("/healthz/").status_code == 200
