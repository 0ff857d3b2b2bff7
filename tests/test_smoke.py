from tests.conftest import post
from tests.factories import make_note, make_series, make_session, make_user


def test_practitioner_walk(client, records, login_as):
    with records():
        practitioner = make_user("practitioner")
        series = make_series(lead=practitioner)
        session = make_session(series)
        make_note(session)
    login_as(practitioner)
    for url in ["/", "/patients/", f"/patients/{series.patient_id}", f"/series/{series.id}",
                f"/sessions/{session.id}", f"/series/{series.id}/sessions/new",
                f"/patients/{series.patient_id}/series/new",
                f"/patients/{series.patient_id}/series/new?concern=acne_scars",
                f"/series/{series.id}/edit", f"/series/{series.id}/complete",
                f"/series/{series.id}/discontinue", "/patients/new",
                f"/patients/{series.patient_id}/edit"]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[-2000:])
    response = post(client, "/logout")
    assert response.status_code == 302
