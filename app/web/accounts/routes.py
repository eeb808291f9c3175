"""Register, log in and out, and the account page (profile, password, API tokens)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts import consents, resets, sessions
from app.accounts import services as account_services
from app.accounts.models import ApiToken
from app.errors import ValidationFailed
from app.extensions import db
from app.security import events as security_events
from app.security import headers, limits
from app.security.models import ACCOUNT_CREATED, LOGIN, LOGIN_FAILED
from app.web.accounts import bp
from app.web.accounts.forms import (
    EmailChangeForm,
    ForgotPasswordForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    RevokeTokenForm,
    TokenForm,
    district_by_id,
)
from app.web.accounts.privacy import ASK_KEY
from app.web.helpers import required, writes_on_get


def landing_page(user) -> str:
    """Where a login without a `next` leads: those who decide requests (facility managers and
    staff, principals, officers) to their queue; everyone else to the search."""
    if user.is_manager or user.is_officer:
        return url_for("manage.queue")
    return url_for("spaces.search")


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def apply_errors(form, exc: ValidationFailed, aliases: dict[str, str] | None = None) -> None:
    """Show a service's per-field messages next to the form's fields (others on top)."""
    aliases = aliases or {}
    for key, messages in exc.errors.items():
        field = form._fields.get(aliases.get(key, key)) if key else None
        if field is not None:
            field.errors = list(field.errors) + list(messages)
        else:
            form.form_errors.extend(messages)


@bp.route("/register", methods=["GET", "POST"])
@limits.register_per_ip
def register():
    if current_user.is_authenticated:
        return redirect(url_for("spaces.search"))
    form = RegisterForm()
    if request.method == "GET":
        form.locale.data = session.get("locale", "ko")
    if form.validate_on_submit():
        try:
            user = account_services.register(
                email=required(form.email.data),
                name=required(form.name.data),
                password=required(form.password.data),
                locale=form.locale.data,
                phone=form.phone.data,
                home_district=district_by_id(form.district.data),
            )
            if user is not None:
                security_events.record(ACCOUNT_CREATED, user=user)
                consents.record(user.id, {
                    purpose for purpose, given in (
                        (consents.BOOKING, form.consent_booking.data),
                        (consents.NOTIFICATIONS, form.consent_notifications.data),
                        (consents.STATISTICS, form.consent_statistics.data),
                    ) if given
                })
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        except IntegrityError:
            # The same new address signed up twice at once: the other request made the
            # account and sent the email; this one answers as for any taken address.
            db.session.rollback()
        if not form.errors and not form.form_errors:
            # The same page whether the address was new or had an account (its owner got an
            # email saying so): sign-up never tells who has an account.
            session["locale"] = form.locale.data if form.locale.data in ("ko", "en") else "ko"
            email = required(form.email.data).strip()
            return render_template("accounts/check_email.html", email=email,
                                   next=safe_next(request.args.get("next")))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/register.html", form=form), status


@bp.get("/verify-email/<token>")
@writes_on_get  # one serialized transaction, like any write
def verify_email(token: str):
    user = account_services.verify_email(token)
    if user is None:
        return render_template(
            "error.html", code=400,
            message=_("This confirmation link is not valid any more. Log in and ask for a new "
                      "one from your account page."),
        ), 400
    db.session.commit()
    flash(_("Your email address is confirmed."), "success")
    if current_user.is_authenticated:
        return redirect(url_for("accounts.account"))
    return redirect(url_for("accounts.login"))


@bp.route("/login", methods=["GET", "POST"])
@limits.login_per_account
@limits.login_per_ip
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if form.validate_on_submit():
        email, password = required(form.email.data), required(form.password.data)
        user = account_services.authenticate(email, password)
        if user is not None:
            sessions.log_in(user, remember=form.remember.data)
            session["locale"] = user.locale
            security_events.record(LOGIN, user=user)
            # Accounts without consent under the current notice (older accounts, or the
            # notice changed) are asked once logged in: see docs/privacy.md.
            if consents.needs_asking(user.id):
                session[ASK_KEY] = True
            db.session.commit()
            flash(_("You are logged in."), "success")
            target = safe_next(form.next.data) or safe_next(request.args.get("next"))
            return redirect(target or landing_page(user))
        # One message whatever was wrong, so the form does not reveal who has an account.
        form.form_errors.append(_("The email address or the password is not correct."))
        security_events.record(LOGIN_FAILED)
        db.session.commit()
    status = 200 if request.method == "GET" else 401 if form.form_errors else 422
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        sessions.log_out(current_user._get_current_object())
        db.session.commit()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.post("/account/verify-email")
@login_required
@limits.verification_per_account
def resend_verification():
    if account_services.resend_verification(current_user):
        db.session.commit()
        flash(_("We sent the confirmation link to %(email)s again.", email=current_user.email),
              "success")
    else:
        flash(_("Your email address is already confirmed."), "info")
    return redirect(safe_next(request.args.get("next")) or url_for("accounts.account"))


# --- Forgotten passwords ------------------------------------------------------------------------
def _no_referrer(response):
    """Pages whose address carries a token: the address never goes out as a Referer."""
    headers.no_referrer()
    return response


@bp.route("/password/forgot", methods=["GET", "POST"])
@limits.password_reset_per_address
@limits.password_reset_per_ip
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            # An address without an account is written to in the language of this page.
            resets.request_reset(required(form.email.data), locale=str(get_locale() or "ko"))
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            # The same page whether or not the address has an account (an email went out
            # either way): this page never tells who has one.
            return render_template("accounts/forgot_sent.html",
                                   email=required(form.email.data).strip())
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limits.password_reset_link_per_ip
def reset_password(token: str):
    if resets.find(token) is None:
        return _no_referrer(make_response(
            render_template("accounts/reset_invalid.html", message=resets.invalid_link_message()),
            400,
        ))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = resets.reset_password(token, required(form.password.data))
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            sessions.log_in(user)
            session["locale"] = user.locale
            security_events.record(LOGIN, user=user)
            db.session.commit()
            flash(_("Your new password is set and you are logged in. Every other device was "
                    "logged out."), "success")
            return redirect(url_for("spaces.search"))
    status = 422 if request.method == "POST" else 200
    return _no_referrer(make_response(
        render_template("accounts/reset.html", form=form), status))


@bp.get("/account/email/<token>")
@writes_on_get  # one serialized transaction, like any write
@limits.password_reset_link_per_ip
def confirm_email_change(token: str):
    try:
        account_services.confirm_email_change(token)
    except ValidationFailed as exc:
        db.session.rollback()
        return _no_referrer(make_response(
            render_template("error.html", code=400, message=exc.message), 400))
    db.session.commit()
    flash(_("Your email address is changed and confirmed."), "success")
    if current_user.is_authenticated:
        return redirect(url_for("accounts.account"))
    return redirect(url_for("accounts.login"))


@bp.post("/account/sessions/end-all")
@login_required
def end_all_sessions():
    """"Log out on every device", this one included."""
    user = current_user._get_current_object()
    sessions.end_sessions(user)
    logout_user()
    db.session.commit()
    flash(_("You are logged out on every device."), "info")
    return redirect(url_for("main.index"))


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    if not sessions.end_one(current_user, session_id):
        abort(404)
    db.session.commit()
    flash(_("That device is logged out."), "success")
    return redirect(url_for("accounts.account") + "#sessions")


def _tokens():
    return db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == current_user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    user = current_user._get_current_object()
    action = request.form.get("action") if request.method == "POST" else None
    # Each form reads the request only when it is the one that was sent.
    profile = ProfileForm(
        prefix="profile", formdata=request.form if action == "profile" else None, obj=user
    )
    if action != "profile":
        profile.district.data = user.home_district_id or 0
    password = PasswordForm(prefix="password")
    token = TokenForm(prefix="token")
    revoke = RevokeTokenForm(prefix="revoke")
    new_token = None
    status = 200

    if action == "profile" and profile.validate_on_submit():
        try:
            account_services.update_profile(
                user,
                name=required(profile.name.data),
                locale=profile.locale.data,
                phone=profile.phone.data,
                home_district=district_by_id(profile.district.data),
            )
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(profile, exc)
        else:
            db.session.commit()
            session["locale"] = user.locale
            flash(_("Your details were saved."), "success")
            return redirect(url_for("accounts.account"))
    elif action == "password" and password.validate_on_submit():
        try:
            account_services.change_password(
                user, current=required(password.current_password.data),
                new=required(password.new_password.data),
            )
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(password, exc)
        else:
            db.session.commit()
            flash(_("Your password was changed."), "success")
            return redirect(url_for("accounts.account"))
    elif action == "token" and token.validate_on_submit():
        try:
            _row, new_token = account_services.issue_token(user, required(token.name.data))
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(token, exc)
        else:
            db.session.commit()
            token = TokenForm(prefix="token", formdata=None)
            # Rendered, not redirected: the plain token must never travel in a cookie or URL.
            status = 201
    elif action == "revoke" and revoke.validate_on_submit():
        if account_services.revoke_token(user, required(revoke.token_id.data)) is None:
            abort(404)
        db.session.commit()
        flash(_("The token was revoked. Programs using it can no longer sign in."), "success")
        return redirect(url_for("accounts.account"))
    elif action == "revoke":
        abort(404)
    if request.method == "POST" and new_token is None:
        status = 422
    return _account_page(user, status, profile=profile, password=password, token=token,
                         revoke=revoke, new_token=new_token)


def _account_page(user, status: int = 200, **forms):
    """The account page, with the forms given (the one sent, with its errors) or fresh ones."""
    forms.setdefault("password", PasswordForm(prefix="password"))
    forms.setdefault("token", TokenForm(prefix="token"))
    forms.setdefault("revoke", RevokeTokenForm(prefix="revoke"))
    forms.setdefault("email_form", EmailChangeForm(prefix="email", formdata=None))
    forms.setdefault("new_token", None)
    if "profile" not in forms:
        profile = ProfileForm(prefix="profile", formdata=None, obj=user)
        profile.district.data = user.home_district_id or 0
        forms["profile"] = profile
    return (
        render_template(
            "accounts/account.html",
            tokens=_tokens(),
            login_sessions=sessions.active(user),
            device_label=sessions.device_label,
            current_session_id=user.login_session_id,
            **forms,
        ),
        status,
    )


@bp.post("/account/email")
@login_required
@limits.email_change_per_account
def change_email():
    """Move the account to another address: a link to the new one, a word to the old one."""
    user = current_user._get_current_object()
    form = EmailChangeForm(prefix="email")
    if form.validate_on_submit():
        try:
            new = account_services.request_email_change(
                user, new_email=required(form.email.data),
                password=required(form.password.data))
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("We sent a link to %(email)s. Your address changes when you open it; until "
                    "then it stays %(old)s.", email=new, old=user.email), "success")
            return redirect(url_for("accounts.account"))
    return _account_page(user, 422, email_form=form)

