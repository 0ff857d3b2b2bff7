"""Forms of the sign-up link: staff issue it, the patient chooses a password with it."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from tracker.passwords import MAX_LENGTH, password_problem


class InviteForm(FlaskForm):
    email = EmailField("Patient's email (used to sign in)",
                       validators=[DataRequired("Enter the email the patient will sign in with."),
                                   Length(max=254),
                                   Email("Enter an email address such as name@example.com.",
                                         check_deliverability=False)])
    submit = SubmitField("Create the account and a sign-up link")
    #: Offered only when mail is set up and the patient's record has an e-mail address.
    send_email = SubmitField("Create the account and e-mail the link")


class ReissueForm(FlaskForm):
    submit = SubmitField("Issue a new sign-up link")
    send_email = SubmitField("Issue a new link and e-mail it")


class ChoosePasswordForm(FlaskForm):
    password = PasswordField(
        "Choose a password",
        validators=[DataRequired("Choose a password."), Length(max=MAX_LENGTH)],
        description="At least 8 characters; a short sentence is easy to remember and hard "
        "to guess.",
    )
    confirm = PasswordField("Type it again",
                            validators=[DataRequired("Type the password again."),
                                        EqualTo("password", "The two passwords differ.")])
    submit = SubmitField("Set my password")

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data)
        if problem:
            raise ValidationError(problem)
