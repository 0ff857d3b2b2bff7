from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import Regexp


class DiscardDraftForm(FlaskForm):
    """The button under the notice of a restored form."""

    draft_id = HiddenField(validators=[Regexp(r"^[1-9][0-9]{0,8}\Z")])
