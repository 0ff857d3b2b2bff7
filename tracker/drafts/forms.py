from flask_wtf import FlaskForm
from wtforms import HiddenField


class DiscardDraftForm(FlaskForm):
    """The button under the notice of a restored form."""

    draft_id = HiddenField()
