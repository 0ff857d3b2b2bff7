from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField(
        "Email", validators=[DataRequired("Enter your email address."), Length(max=254)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=1024)]
    )
    next = HiddenField()
    submit = SubmitField("Sign in")


class EmptyForm(FlaskForm):
    """Carries only the CSRF token, for POST-only buttons such as sign-out."""
