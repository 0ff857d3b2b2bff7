"""Plain words for a patient: what the clinic's codes and grades mean, said as a person
would say them. Staff wording ("3 – severe", "Clinician-graded", "window/target") never
reaches the portal; everything it says about a record comes through here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tracker import clock
from tracker.domain import SeriesStatus
from tracker.series.progress import DueState, Progress

#: What each redness grade looks like, for the patient choosing one.
REDNESS_WORDS = {
    0: ("No redness", "Your skin looks its usual colour."),
    1: ("Mild redness", "Light pink, like a mild sunburn."),
    2: ("Moderate redness", "Clearly red, like a day-old sunburn."),
    3: ("Severe redness", "Deep red, hot or very sore to touch."),
}

#: What each swelling grade looks like.
SWELLING_WORDS = {
    0: ("No swelling", "Your skin looks as it usually does."),
    1: ("Mild swelling", "Slightly puffy; mostly only you would notice."),
    2: ("Moderate swelling", "Puffy enough that others would notice."),
    3: ("Severe swelling", "Very swollen, tight, or puffy around the eyes or lips."),
}

GAIS_WORDS = {1: "very much improved", 2: "much improved", 3: "improved", 4: "no change yet",
              5: "worse"}


def grade_phrase(kind: str, grade: int) -> str:
    """'mild redness', 'no swelling'."""
    words = REDNESS_WORDS if kind == "redness" else SWELLING_WORDS
    return words[grade][0].lower()


def _day_month(day: date, with_year: bool) -> str:
    return f"{day.day} {day:%B}" + (f" {day.year}" if with_year else "")


def date_words(day: date) -> str:
    """'2 December', with the year only when it is not this year."""
    return _day_month(day, day.year != clock.today().year)


def window_words(opens: date, closes: date) -> str:
    """'between 2 and 16 December', 'between 28 November and 12 December'."""
    with_year = opens.year != closes.year or opens.year != clock.today().year
    if opens == closes:
        return f"on {_day_month(opens, with_year)}"
    if opens.month == closes.month and opens.year == closes.year:
        tail = f" {opens.year}" if with_year else ""
        return f"between {opens.day} and {closes.day} {closes:%B}{tail}"
    return f"between {_day_month(opens, with_year)} and {_day_month(closes, with_year)}"


@dataclass(frozen=True)
class SeriesWords:
    """How a series stands, said to the patient."""

    #: One sentence on where the series stands.
    state: str
    #: True when the patient should get in touch to book (due, overdue, lapsed).
    book_now: bool
    #: A tone for the page: 'calm', 'due', 'late', 'done'.
    tone: str


def series_words(status: SeriesStatus, progress: Progress) -> SeriesWords:
    """The state of a series phrased for the patient; a discontinued series says only
    that it ended (the staff's reason stays on the staff pages)."""
    if status is SeriesStatus.DISCONTINUED:
        return SeriesWords("This treatment has ended.", False, "done")
    if status is SeriesStatus.COMPLETED:
        return SeriesWords("You have finished this treatment. Results keep building for "
                           "months; your clinic may invite you for a follow-up check.",
                           False, "done")
    state = progress.state
    if state is DueState.ALL_DONE:
        return SeriesWords("All your planned sessions are done.", False, "done")
    opens, closes = progress.window_opens_on, progress.window_closes_on
    window = window_words(opens, closes) if opens and closes else ""
    number = progress.next_number
    if state is DueState.NOT_DUE:
        return SeriesWords(f"Your next session (number {number}) is best {window}.", False,
                           "calm")
    if state is DueState.DUE_SOON:
        return SeriesWords(f"Your next session (number {number}) is coming up: best "
                           f"{window}. Now is a good time to book it.", True, "due")
    if state is DueState.DUE:
        return SeriesWords(f"It is time for session {number}: best {window}.", True, "due")
    if state is DueState.OVERDUE:
        return SeriesWords(f"Session {number} was best {window}. It is not too late: "
                           "get in touch and the clinic will fit you in.", True, "late")
    return SeriesWords("It has been a while since your last session. Get in touch if you "
                       "would like to carry on.", True, "late")


@dataclass(frozen=True)
class AftercareStage:
    first_day: int
    last_day: int
    title: str
    advice: tuple[str, ...]

    @property
    def days_label(self) -> str:
        return f"Day {self.first_day}–{self.last_day}"


#: domain.md "Aftercare (day by day, shown to the patient)".
AFTERCARE = (
    AftercareStage(0, 1, "Let your skin rest", (
        "Wash with a gentle cleanser and use a bland moisturiser only.",
        "No make-up and no active skincare (retinoids, acids, vitamin C).",
        "Avoid sweating, exercise, sauna and swimming.",
        "Keep out of direct sun.",
    )),
    AftercareStage(2, 4, "Be gentle while it settles", (
        "Still no retinoids, acids, vitamin C or benzoyl peroxide.",
        "Do not pick or scrub the flakes: let them come away by themselves.",
        "Wear sunscreen every day.",
    )),
    AftercareStage(5, 7, "Back to your routine", (
        "Go back to your usual routine if your skin feels calm.",
        "Keep up strict sun protection.",
        "Your next session is usually 4–6 weeks after this one.",
    )),
)
AFTERCARE_LAST_DAY = AFTERCARE[-1].last_day


def aftercare_stage(day_after: int) -> AftercareStage | None:
    """Today's advice on day ``day_after`` of a session, or None outside days 0–7."""
    return next((stage for stage in AFTERCARE
                 if stage.first_day <= day_after <= stage.last_day), None)
