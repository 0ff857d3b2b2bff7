"""Safe defaults. Secrets and deployment settings come from the instance folder or the
environment (see :func:`tracker.create_app`), never from this file."""


class DefaultConfig:
    #: ``development`` (the default) or ``production``; production demands a real
    #: SECRET_KEY and DATABASE_URL, sets secure cookies and refuses demo data.
    ENV_NAME = "development"
    #: ``hide_parameters`` keeps patients' data out of SQL error messages and logs; it is
    #: enforced by :func:`tracker.create_app` even if this setting is overridden. No
    #: ``pool_pre_ping``: PostgreSQL connections are checked at checkout without a round
    #: trip (tracker.db: _check_postgresql_connection), and SQLite has no server to lose.
    SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}  # noqa: RUF012
    CLINIC_NAME = "Demo Skin Clinic"
    CLINIC_TIMEZONE = "Europe/London"
    #: Shown to patients on the portal when a session is due: there is no booking system,
    #: so the patient calls or calls in. Empty values are left out of the page.
    CLINIC_PHONE = ""
    CLINIC_ADDRESS = ""
    #: Whether patients see the improvement and satisfaction scores of their sessions
    #: (as sentences) on the portal. Off unless the clinic decides to share them.
    PORTAL_SHARE_SCORES = False
    #: Signed-in users are signed out after this many idle minutes, and in any case
    #: after SESSION_ABSOLUTE_HOURS. Both are enforced on the server (tracker.auth.setup);
    #: the cookie itself ends with the browser session, so PERMANENT_SESSION_LIFETIME
    #: plays no part and is not set here.
    IDLE_TIMEOUT_MINUTES = 15
    SESSION_ABSOLUTE_HOURS = 12
    #: A form posted after the session ended is kept this long for its user to finish
    #: after signing in again.
    DRAFT_LIFETIME_MINUTES = 120
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "tracker_session"
    #: Failed sign-ins allowed per account and per address within the window.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_THROTTLE_MINUTES = 15
    PATIENTS_PER_PAGE = 25
    #: Rows per page of Today's list of series needing attention.
    ATTENTION_PER_PAGE = 25
    AUDIT_EVENTS_PER_PAGE = 50
    ADVERSE_EVENTS_PER_PAGE = 25
    #: Rows per page of the manager review lists, and rows of each list on the dashboard.
    REVIEW_PER_PAGE = 25
    REVIEW_DASHBOARD_ROWS = 5
    #: How long each worker keeps a review page's figures before computing them again
    #: (seconds; 0: always fresh). See tracker/review/cache.py.
    REVIEW_CACHE_SECONDS = 60
    #: Rows per page of the recall worklist, the follow-ups list and the lot trace.
    RECALL_PER_PAGE = 25
    #: A follow-up assessment counts as due from this many days before its day (1, 3 or
    #: 6 months after the last session) to as many days after; overdue after that.
    FOLLOW_UP_WINDOW_DAYS = 14
    #: A follow-up still not done this many days after its day is missed: it leaves the
    #: to-do list (the "Missed" filter still shows it).
    FOLLOW_UP_MISSED_AFTER_DAYS = 90
    #: The "Done" and "Missed" follow-ups lists show the latest this many, and count no
    #: further ("1,000+"): counting a clinic's years of follow-ups on every visit would
    #: cost more the longer it keeps records. A series' page and the CSV have them all.
    FOLLOW_UPS_LISTED = 1000
    #: Series whose next window opens within this many days count as "due soon".
    DUE_SOON_DAYS = 7
    #: Screening asks about isotretinoin taken within this many months (the drug label
    #: says 6; a clinic may choose otherwise, see domain.md). A "yes" is a warning the
    #: practitioner overrides with a written reason, never a block.
    ISOTRETINOIN_LOOKBACK_MONTHS = 6
    #: How far back and ahead of today a series may start (records entered late, plans
    #: made early); sessions are bounded by their series' start and by
    #: SESSION_FUTURE_LIMIT_MINUTES ahead of now.
    SERIES_START_PAST_DAYS = 3650
    SERIES_START_FUTURE_DAYS = 365
    SESSION_FUTURE_LIMIT_MINUTES = 180
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    ALLOW_DEMO_DATA = True
    #: Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto headers
    #: are trusted (0: none). Sign-in throttling per address relies on the real client
    #: address, so set this to match the deployment exactly.
    TRUSTED_PROXIES = 0
    #: Outgoing e-mail (optional): with MAIL_SERVER and MAIL_FROM set, staff can send a
    #: patient's sign-up link by e-mail. MAIL_USE_STARTTLS upgrades the connection before
    #: signing in (port 587); turn it off only for a relay on the same machine or network.
    #: MAIL_PASSWORD is a secret: set it in the environment, never here.
    MAIL_SERVER = ""
    MAIL_PORT = 587
    MAIL_USE_STARTTLS = True
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_FROM = ""
    MAIL_TIMEOUT_SECONDS = 10
