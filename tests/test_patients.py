"""Patients: the list and its search, creating and editing a chart, and the patient page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from tests.conftest import post
from tests.factories import make_patient, make_series, make_session, make_user
from tests.pages import WrittenTemplates, field_error, form_data, text, words
from tracker.domain import Area, Concern
from tracker.extensions import db
from tracker.models import Patient, PatientConsent, PatientCount

# Signing in checks the password by comparison: these tests are not about hashing.
pytestmark = pytest.mark.usefixtures("fast_password_check", "shared_template_cache")


def patient_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(func.count(Patient.id)))


def listed(page: str, patient: Patient) -> bool:
    return f"{patient.last_name}, {patient.first_name}" in page


# --- the list -------------------------------------------------------------------------------


@pytest.fixture
def three_patients(records):
    with records():
        return (
            make_patient(first_name="Anna", last_name="Smithson", chart_number="AB-100"),
            make_patient(first_name="Bob", last_name="Jones", chart_number="ZX-777"),
            make_patient(first_name="Carla", last_name="Smith", chart_number="CD-200"),
        )


def test_list_shows_every_patient(client, practitioner, three_patients):
    page = text(client.get("/patients/"))
    assert all(listed(page, patient) for patient in three_patients)
    assert "3 patients" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("smith", {"Anna", "Carla"}),  # start of a last name
        ("ANN", {"Anna"}),  # start of a first name, other case
        ("zx-7", {"Bob"}),  # start of a chart number, other case
        ("mithson", set()),  # the middle of a name: the search is by prefix, indexed
        ("cd-200", {"Carla"}),
        ("bob jones", {"Bob"}),  # every word must match
        ("nobody", set()),
    ],
)
def test_search_by_name_or_chart_number(client, practitioner, three_patients, query, expected):
    page = text(client.get("/patients/", query_string={"q": query}))
    shown = {patient.first_name for patient in three_patients if listed(page, patient)}
    assert shown == expected
    if not expected:
        assert f"No patient matches “{query}”" in page


@pytest.mark.parametrize("query", ["\ud7ff", "\ud7ffb", "a\U0010ffff", "\U0010ffff",
                                   "\U0010ffff\U0010ffff"])
def test_search_by_any_last_character(client, practitioner, records, query):
    """A prefix is searched as the range up to the next code point: one ending in the
    code point before the surrogates, or in the very last one, still finds its patients
    (these answered 500)."""
    with records():
        found = make_patient(first_name="Edge", last_name=query.rstrip("b") + "berg")
        other = make_patient(first_name="Other", last_name="\ue000berg")
    response = client.get("/patients/", query_string={"q": query})
    assert response.status_code == 200
    page = text(response)
    assert listed(page, found)
    assert not listed(page, other)


def test_search_treats_wildcards_literally(client, practitioner, records):
    with records():
        plain = make_patient(first_name="Dora", last_name="Plain")
        make_patient(first_name="Eve", last_name="Under_score")
    page = text(client.get("/patients/", query_string={"q": "under_"}))
    assert "Under_score, Eve" in page
    assert not listed(page, plain)
    page = text(client.get("/patients/", query_string={"q": "_"}))
    assert "No patient matches" in page
    assert not listed(page, plain)


def test_archived_patients_hidden_unless_asked_for(client, practitioner, records):
    with records():
        active = make_patient(last_name="Active")
        archived = make_patient(last_name="Archived", is_archived=True)
    page = text(client.get("/patients/"))
    assert listed(page, active)
    assert not listed(page, archived)
    page = text(client.get("/patients/", query_string={"archived": "1"}))
    assert listed(page, active)
    assert listed(page, archived)
    page = text(client.get("/patients/", query_string={"q": "archived"}))
    assert not listed(page, archived)


def kept_counts(app) -> tuple[tuple[int, int], tuple[int, int]]:
    """(listed, archived) as patient_counts keeps them, and as the patients are."""
    with app.app_context():
        kept = db.session.execute(select(PatientCount.listed, PatientCount.archived)).one()
        real = db.session.execute(select(
            func.count(Patient.id).filter(Patient.is_archived.is_(False)),
            func.count(Patient.id).filter(Patient.is_archived.is_(True)))).one()
    return tuple(kept), tuple(real)


def test_the_kept_patient_counts_follow_every_change(client, app, records, practitioner):
    """patient_counts (kept by triggers, read by the list instead of counting every
    patient) stays equal to the patients through adding one in the form, archiving and
    restoring it, bulk changes and removing rows."""
    kept, real = kept_counts(app)
    assert kept == real
    with records():
        make_patient(last_name="Shown")
        make_patient(last_name="Hidden", is_archived=True)
    assert kept_counts(app)[0] == (real[0] + 1, real[1] + 1)
    response = post(client, "/patients/new", valid_patient_form(), token_from="/patients/new")
    patient_id = int(response.headers["Location"].rsplit("/", 1)[1])
    edit_url = f"/patients/{patient_id}/edit"
    form = form_data(client.get(edit_url))
    kept, real = kept_counts(app)
    assert kept == real
    assert client.post(edit_url, data={**form, "is_archived": "y"}).status_code == 302
    assert kept_counts(app) == ((real[0] - 1, real[1] + 1),) * 2
    # Saving again without a change of the flag leaves the counts alone.
    assert client.post(edit_url, data={**form, "is_archived": "y"}).status_code == 302
    assert kept_counts(app) == ((real[0] - 1, real[1] + 1),) * 2
    assert client.post(edit_url, data=form).status_code == 302
    assert kept_counts(app) == (real, real)
    with app.app_context():
        db.session.execute(update(Patient).values(is_archived=True))
        db.session.commit()
        kept, real = kept_counts(app)
        assert kept == real and kept[0] == 0
        db.session.execute(delete(PatientConsent))
        db.session.execute(delete(Patient).where(Patient.last_name == "Hidden"))
        db.session.commit()
    kept, real = kept_counts(app)
    assert kept == real


def test_the_list_counts_its_patients_if_their_kept_number_is_missing(client, app, records,
                                                                      practitioner):
    """The number comes from patient_counts; were its row ever lost, the list would count
    the patients rather than say there are none."""
    with records():
        make_patient(last_name="Shown")
        make_patient(last_name="Hidden", is_archived=True)
    page = text(client.get("/patients/"))
    assert "1 patient, archived hidden" in page
    assert "2 patients." in text(client.get("/patients/", query_string={"archived": "1"}))
    with app.app_context():
        db.session.execute(delete(PatientCount))
        db.session.commit()
    assert "1 patient, archived hidden" in text(client.get("/patients/"))
    assert "2 patients." in text(client.get("/patients/", query_string={"archived": "1"}))


@pytest.mark.parametrize("app_config", [{"PATIENTS_PER_PAGE": 3}])
def test_pagination(client, practitioner, records):
    with records():
        patients = [make_patient(first_name="Paged", last_name=f"Page{index:02d}")
                    for index in range(1, 6)]
    first = text(client.get("/patients/"))
    assert [listed(first, patient) for patient in patients] == [True] * 3 + [False] * 2
    assert "Page 1 of 2" in first
    second = text(client.get("/patients/", query_string={"page": "2"}))
    assert [listed(second, patient) for patient in patients] == [False] * 3 + [True] * 2
    assert "Page 2 of 2" in second

    # Odd page numbers fall back to a real page instead of failing.
    past_end = client.get("/patients/", query_string={"page": "999"})
    assert past_end.status_code == 200
    assert [listed(text(past_end), patient) for patient in patients] == [False] * 3 + [True] * 2
    for odd in ("abc", "-1", "0", "99999999999999999999"):
        response = client.get("/patients/", query_string={"page": odd})
        assert response.status_code == 200, odd
        assert [listed(text(response), patient) for patient in patients] == [True] * 3 + [
            False] * 2


@pytest.mark.parametrize("app_config", [{"PATIENTS_PER_PAGE": 2}])
def test_pagination_keeps_the_search(client, practitioner, records):
    with records():
        matching = [make_patient(last_name=f"Keep{index}", is_archived=index == 3)
                    for index in range(1, 4)]
        make_patient(last_name="Other")
    page = client.get("/patients/", query_string={"q": "keep", "archived": "1"})
    assert "Page 1 of 2" in text(page)
    next_link = page.get_data(as_text=True).split('rel="next"')[0].rsplit('href="', 1)[1]
    second = text(client.get(next_link.split('"')[0].replace("&amp;", "&")))
    assert listed(second, matching[2])
    assert "Page 2 of 2" in second


@pytest.mark.parametrize("app_config", [{"PATIENTS_PER_PAGE": 2}])
def test_search_pages_list_each_match_once_in_order_with_its_open_series(
        client, practitioner, records):
    """Each page of a search shows the next matches by name, each with its own count
    of open series (read for the page's rows only, after the matches are sorted)."""
    from tracker.domain import SeriesStatus

    with records():
        # Made out of name order, each with as many open series as its number.
        matching = {}
        for number in (3, 0, 4, 1, 2):
            patient = make_patient(last_name=f"Page{number}", first_name="Ann")
            for _ in range(number):
                make_series(patient, status=SeriesStatus.ACTIVE)
            make_series(patient, status=SeriesStatus.COMPLETED, ended_on=date.today())
            matching[number] = patient
        make_patient(last_name="Other")
    rows = []
    for page_number in (1, 2, 3):
        html = client.get("/patients/", query_string={"q": "page", "page": page_number}
                          ).get_data(as_text=True)
        for row in html.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]:
            name = row.split('<a href="', 1)[1].split('">', 1)[1].split("</a>", 1)[0]
            count = row.rsplit('class="num">', 1)[1].split("<", 1)[0]
            rows.append((name, int(count)))
    assert rows == [(f"Page{number}, Ann", number) for number in range(5)]


# --- creating a patient ---------------------------------------------------------------------


def valid_patient_form(**overrides: str) -> dict[str, str]:
    form = {
        "chart_number": "NEW-001",
        "first_name": "Maria",
        "last_name": "Lopez",
        "date_of_birth": "1985-04-12",
        "fitzpatrick_type": "3",
        "email": "maria.lopez@example.com",
        "phone": "+44 20 7946 0000",
        "allergies": "Lidocaine",
        "medical_notes": "",
    }
    form.update(overrides)
    return form


def test_new_patient_form_suggests_a_free_chart_number(client, practitioner, records):
    with records():
        make_patient(chart_number="MN-00002")
    data = form_data(client.get("/patients/new"))
    assert data["chart_number"].startswith("MN-")
    with client.application.app_context():
        taken = db.session.scalar(
            db.select(Patient.id).where(Patient.chart_number == data["chart_number"]))
    assert taken is None


def test_create_patient(client, app, practitioner):
    response = post(client, "/patients/new", valid_patient_form(), token_from="/patients/new")
    assert response.status_code == 302
    with app.app_context():
        patient = db.session.scalar(db.select(Patient).where(Patient.chart_number == "NEW-001"))
        assert patient is not None
        assert response.headers["Location"].endswith(f"/patients/{patient.id}")
        assert (patient.first_name, patient.last_name) == ("Maria", "Lopez")
        assert patient.date_of_birth == date(1985, 4, 12)
        assert patient.fitzpatrick_type == 3
        assert patient.email == "maria.lopez@example.com"
        assert patient.allergies == "Lidocaine"
        assert patient.medical_notes is None
        assert patient.consents == []  # recorded on the patient page (test_screening)
        assert patient.allergy_codes == []
        assert patient.is_archived is False
    page = text(client.get(response.headers["Location"]))
    assert "Maria Lopez was added." in page
    assert "Chart NEW-001" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "Enter the first name."),
        ({"last_name": "   "}, "last_name", "Enter the last name."),
        ({"date_of_birth": (date.today() + timedelta(days=2)).isoformat()}, "date_of_birth",
         "The date of birth cannot be in the future."),
        ({"date_of_birth": "12/04/1985"}, "date_of_birth",
         "Enter a real date as day, month and year."),
        ({"date_of_birth": "1890-01-01"}, "date_of_birth",
         "dates of birth start at 1900"),
        ({"date_of_birth": "0001-01-01"}, "date_of_birth",
         "dates of birth start at 1900"),
        ({"date_of_birth": "9999-12-31"}, "date_of_birth",
         "The date of birth cannot be in the future."),
        ({"date_of_birth": "1985-02-30"}, "date_of_birth",
         "Enter a real date as day, month and year."),
        ({"email": "maria-at-example"}, "email", "Enter a valid email address."),
        ({"chart_number": "TAKEN-1"}, "chart_number",
         "Another patient already has this chart number."),
        ({"chart_number": "taken 1"}, "chart_number",
         "Use letters, digits, '-', '/' or '.' only."),
        ({"fitzpatrick_type": "9"}, "fitzpatrick_type", "Choose one of the listed values."),
        ({"fitzpatrick_type": "IV"}, "fitzpatrick_type", "Choose one of the listed values."),
        ({"fitzpatrick_type": ""}, "fitzpatrick_type", "Choose"),
    ],
)
def test_invalid_patient_is_not_stored(client, app, records, practitioner, overrides, field,
                                       message):
    with records():
        make_patient(chart_number="TAKEN-1")
    before = patient_count(app)
    typed = valid_patient_form(**overrides)
    response = post(client, "/patients/new", typed, token_from="/patients/new")
    assert response.status_code == 200
    assert message in field_error(response, field)
    assert "Nothing was saved yet." in text(response)
    shown = form_data(response)
    for name, value in typed.items():
        if not (name == "fitzpatrick_type" and name in overrides):  # not an option to show
            assert shown[name] == value.strip(), name
    assert patient_count(app) == before


# --- editing --------------------------------------------------------------------------------


def test_edit_changes_only_what_was_changed_and_keeps_the_archive_flag(client, app, records,
                                                                       practitioner):
    with records():
        patient = make_patient(first_name="Iris", last_name="Kept", chart_number="KEEP-9",
                               date_of_birth=date(1979, 2, 28), fitzpatrick_type=5,
                               email="iris@example.com", allergies="Latex",
                               medical_notes="Keloid history", consent_on=date(2025, 6, 1),
                               is_archived=True)
    edit_url = f"/patients/{patient.id}/edit"
    form = form_data(client.get(edit_url))
    assert form["is_archived"] == "y"
    form["phone"] = "07700 900123"
    response = client.post(edit_url, data=form)
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(Patient, patient.id)
        assert stored.phone == "07700 900123"
        assert stored.is_archived is True
        assert (stored.first_name, stored.last_name, stored.chart_number) == (
            "Iris", "Kept", "KEEP-9")
        assert stored.date_of_birth == date(1979, 2, 28)
        assert stored.consent_on == date(2025, 6, 1)
        assert stored.fitzpatrick_type == 5
        assert (stored.email, stored.allergies, stored.medical_notes) == (
            "iris@example.com", "Latex", "Keloid history")

    # Unticking the box restores the patient to the list.
    form.pop("is_archived")
    assert client.post(edit_url, data=form).status_code == 302
    with app.app_context():
        assert db.session.get(Patient, patient.id).is_archived is False


def test_edit_may_keep_its_own_chart_number_but_not_take_another(client, app, records,
                                                                 practitioner):
    with records():
        patient = make_patient(chart_number="OWN-1")
        make_patient(chart_number="OTHER-2")
    edit_url = f"/patients/{patient.id}/edit"
    form = form_data(client.get(edit_url))
    form["chart_number"] = "OTHER-2"
    response = client.post(edit_url, data=form)
    assert response.status_code == 200
    assert "Another patient already has this chart number." in field_error(response,
                                                                           "chart_number")
    with app.app_context():
        assert db.session.get(Patient, patient.id).chart_number == "OWN-1"
    form["chart_number"] = "OWN-1"
    form["last_name"] = "Renamed"
    assert client.post(edit_url, data=form).status_code == 302
    with app.app_context():
        assert db.session.get(Patient, patient.id).last_name == "Renamed"


# --- the patient page -----------------------------------------------------------------------


@pytest.mark.parametrize("skin_type", [1, 2, 3, 4, 5, 6])
def test_pigmentation_risk_notice_for_types_four_to_six(client, records, practitioner,
                                                        skin_type):
    with records():
        patient = make_patient(fitzpatrick_type=skin_type)
    page = text(client.get(f"/patients/{patient.id}"))
    assert ("Pigmentation risk" in page) is (skin_type >= 4)


def test_patient_page_shows_each_series_with_its_own_progress(client, records, practitioner):
    with records():
        patient = make_patient()
        scars = make_series(patient, concern=Concern.ACNE_SCARS, planned_sessions=4)
        make_session(scars)
        make_session(scars)
        marks = make_series(patient, concern=Concern.STRETCH_MARKS, planned_sessions=5)
        make_session(marks)
        make_series(make_patient(), planned_sessions=4)  # someone else's
    page = text(client.get(f"/patients/{patient.id}"))
    assert "Acne scars" in page
    assert "Stretch marks" in page
    assert "2 of 4 sessions" in page
    assert "1 of 5 sessions" in page
    assert page.count(" of 4 sessions") == 1


def test_patient_page_names_each_series_areas_and_lead(client, records, practitioner):
    """Newest series first, each with its own areas and lead (read as rows, not objects)."""
    with records():
        patient = make_patient()
        first_lead, second_lead = make_user(name="Dr Ada Lind"), make_user(name="Dr Bo Ek")
        make_series(patient, lead=first_lead, concern=Concern.ACNE_SCARS,
                    areas=(Area.CHEEKS, Area.FOREHEAD), start_on=date(2026, 3, 2))
        make_series(patient, lead=second_lead, concern=Concern.STRETCH_MARKS,
                    areas=(Area.ABDOMEN,), start_on=date(2026, 6, 1))
    page = words(client.get(f"/patients/{patient.id}"))
    newer = page.index("Stretch marks")
    older = page.index("Acne scars")
    assert newer < older
    assert "Abdomen · lead Dr Bo Ek" in page[newer:older]
    assert "Cheeks, Forehead · lead Dr Ada Lind" in page[older:]


def test_patient_pages_series_are_written_again_whenever_anything_they_show_changes(
        app, client, records, practitioner, monkeypatch):
    """The patient page's series are kept per app for the rows read on each view, the
    clinic's day and whether the user treats (tracker.patients.views): an unchanged view
    writes them not again, and any change shows on the next view."""
    from tests.conftest import login
    from tests.factories import PASSWORD
    from tracker import clock
    from tracker.models import SeriesArea, TreatmentSeries, User

    with records():
        patient = make_patient()
        series = make_series(patient, lead=make_user(name="Dr Kept Lead"),
                             concern=Concern.ACNE_SCARS, planned_sessions=4,
                             areas=(Area.CHEEKS,), start_on=date(2026, 3, 2))
        make_session(series)
        manager = make_user("manager")
    watch = WrittenTemplates(app, "patients/_series_cards.html")
    written = watch.written

    def view(viewer=client) -> str:
        return words(watch.get(viewer, f"/patients/{patient.id}"))

    first = view()
    assert "1 of 4 sessions" in first and written
    assert view() == first and not written
    changes = [
        (lambda: make_session(series), "2 of 4 sessions"),
        (lambda: db.session.execute(update(TreatmentSeries).values(concern_detail="Rolling")),
         "Acne scars – Rolling"),
        (lambda: db.session.execute(update(SeriesArea).values(area=Area.CHIN)), "Chin · lead"),
        (lambda: db.session.execute(update(User).where(User.name == "Dr Kept Lead")
                                    .values(name="Dr Renamed Lead")), "Dr Renamed Lead"),
    ]
    for change, shown in changes:
        assert shown not in view()
        with records():
            change()
        assert shown in view() and written, shown
    # The next window is told in days from the clinic's day.
    with app.app_context():
        real_today = clock.today()
    before = view()
    monkeypatch.setattr(clock, "today", lambda: real_today + timedelta(days=1))
    assert view() != before and written
    # Only those who treat are told to mark a series complete.
    monkeypatch.undo()
    with records():
        for _ in range(2):
            make_session(series)
    assert "mark the series complete" in view()
    manager_client = app.test_client()
    assert login(manager_client, manager.email, PASSWORD).status_code == 302
    assert "mark the series complete" not in view(manager_client) and written


def test_unknown_patient_is_not_found(client, practitioner):
    assert client.get("/patients/999999").status_code == 404


def test_error_summary_names_each_missing_field(client, app, practitioner):
    response = post(client, "/patients/new", valid_patient_form(first_name="", last_name=""),
                    token_from="/patients/new")
    summary = text(response).split('class="errors-summary"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#first_name">First name</a>: Enter the first name.' in summary
    assert '<a href="#last_name">Last name</a>: Enter the last name.' in summary
    assert patient_count(app) == 0


def test_patient_page_title_names_the_patient_only(client, records, practitioner):
    """The browser tab reads the patient's name, not a page section that slipped into it."""
    with records():
        patient = make_patient(first_name="Ines", last_name="Duarte")
    page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith("Ines Duarte")
    assert "<" not in title and "Consents" not in title
    assert page.count('id="consents"') == 1
