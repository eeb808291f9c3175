"""Settlement pages. Owners (their managers and head) see their bank account and statements;
platform administrators see every owner's, verify accounts, issue statements, export the
bank's bulk-transfer file and record transfers. Anyone else gets 404."""

from __future__ import annotations

import io
from datetime import date

import xlsxwriter
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app import csvfile
from app.access import load_or_404
from app.db import utcnow
from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.orgs.models import Organisation
from app.payments import bank_accounts, settlement
from app.payments.settlement_models import (
    SETTLEMENT_LOG_LABELS,
    STATEMENT_STATUS_LABELS,
    BankAccount,
    SettlementLog,
    SettlementStatement,
    StatementStatus,
)
from app.security.limits import settlement_per_account
from app.web.helpers import paginate, required
from app.web.settlement.forms import BankAccountForm, IssueForm, PaidForm, VerifyForm

bp = Blueprint("settlement", __name__)

PER_PAGE = 50
LOG_ROWS = 30


def _org(org_id: int) -> Organisation:
    org = load_or_404(Organisation, org_id)
    if not bank_accounts.can_see(current_user, org):
        abort(404)
    return org


def _operator() -> None:
    if not bank_accounts.can_operate(current_user):
        abort(404)


def _errors(form) -> str:
    return " ".join(e for errors in form.errors.values() for e in errors)


def _apply_errors(form, exc: DomainError) -> None:
    if isinstance(exc, ValidationFailed):
        for name, messages in exc.errors.items():
            target = getattr(form, name, None) if name else None
            if target is not None:
                target.errors = [*target.errors, *messages]
            else:
                flash(" ".join(messages), "error")
    else:
        flash(exc.message, "error")


# --------------------------------------------------------------------------- the owner
@bp.route("/manage/organisations/<int:org_id>/bank-account", methods=["GET", "POST"])
@login_required
@settlement_per_account
def bank_account(org_id: int):
    org = _org(org_id)
    form = BankAccountForm()
    verify_form = VerifyForm(prefix="verify")
    if request.method == "POST":
        if not bank_accounts.can_edit(current_user, org):
            abort(403)
        if form.validate_on_submit():
            try:
                bank_accounts.set_account(org, current_user, bank_code=form.bank_code.data,
                                          number=required(form.number.data),
                                          holder=required(form.holder.data))
            except DomainError as exc:
                db.session.rollback()
                _apply_errors(form, exc)
            else:
                db.session.commit()
                flash(_("Bank account saved. A platform administrator will verify it before "
                        "the next transfer."), "success")
                return redirect(url_for(".bank_account", org_id=org.id))
        form.number.data = ""
    return _account_page(org, form, verify_form)


def _account_page(org, form, verify_form, status: int = 200):
    account = db.session.scalar(
        select(BankAccount).where(BankAccount.organisation_id == org.id)
        .options(joinedload(BankAccount.updated_by), joinedload(BankAccount.verified_by)))
    if request.method == "GET" and account is not None:
        form.bank_code.data = account.bank_code
        form.holder.data = account.holder
    history = db.session.scalars(
        select(SettlementLog).where(SettlementLog.organisation_id == org.id)
        .options(joinedload(SettlementLog.actor))
        .order_by(SettlementLog.at.desc(), SettlementLog.id.desc()).limit(LOG_ROWS))
    return render_template(
        "settlement/bank_account.html", org=org, account=account, form=form,
        verify_form=verify_form, can_edit=bank_accounts.can_edit(current_user, org),
        can_verify=bank_accounts.can_operate(current_user), history=list(history),
        log_labels=SETTLEMENT_LOG_LABELS,
    ), status


@bp.post("/manage/organisations/<int:org_id>/bank-account/verify")
@login_required
@settlement_per_account
def verify(org_id: int):
    org = _org(org_id)
    if not bank_accounts.can_operate(current_user):
        abort(403)  # the owner's managers see the account, administrators verify it
    verify_form = VerifyForm(prefix="verify")
    if verify_form.validate_on_submit():
        try:
            bank_accounts.verify_account(org, current_user,
                                         number=required(verify_form.number.data))
        except DomainError as exc:
            db.session.rollback()
            _apply_errors(verify_form, exc)
        else:
            db.session.commit()
            flash(_("Bank account verified."), "success")
            return redirect(url_for(".bank_account", org_id=org.id))
    verify_form.number.data = ""
    return _account_page(org, BankAccountForm(formdata=None), verify_form, 422)


@bp.get("/manage/organisations/<int:org_id>/statements")
@login_required
def statements(org_id: int):
    org = _org(org_id)
    return render_template(
        "settlement/statements.html", org=org, statements=settlement.statements_of(org.id),
        account=bank_accounts.account_of(org.id), labels=STATEMENT_STATUS_LABELS,
    )


@bp.get("/manage/organisations/<int:org_id>/statements/<int:statement_id>")
@login_required
def statement(org_id: int, statement_id: int):
    org = _org(org_id)
    row = db.session.scalar(
        select(SettlementStatement)
        .where(SettlementStatement.id == statement_id,
               SettlementStatement.organisation_id == org.id)
        .options(selectinload(SettlementStatement.lines),
                 joinedload(SettlementStatement.paid_by)))
    if row is None:
        abort(404)
    if request.args.get("format") == "csv":
        return _statement_csv(org, row)
    return render_template(
        "settlement/statement.html", org=org, statement=row,
        account=bank_accounts.account_of(org.id),
        can_pay=bank_accounts.can_operate(current_user) and row.status ==
        StatementStatus.ISSUED, paid_form=PaidForm(formdata=None, paid_on=_today()),
    )


def _today() -> date:
    return utcnow().astimezone(settlement.ZONE).date()


def _statement_csv(org, row: SettlementStatement) -> Response:
    zone = settlement.ZONE
    lines = ([line.occurred_at.astimezone(zone).date().isoformat(), line.kind, line.booking_id,
              line.space_name, line.amount, line.platform_fee, line.processing_fee, line.net]
             for line in row.lines)
    totals = [["", "carried_in", "", "", "", "", "", row.carried_in],
              ["", "total", "", "", row.gross - row.refunded,
               row.platform_fee - row.fee_returned, row.processing_fee, row.net]]
    body = csvfile.to_csv(
        ["date", "kind", "booking", "space", "amount", "platform_fee", "processing_fee", "net"],
        [*lines, *totals],
    )
    return _download(body, f"statement-{org.slug}-{row.month:%Y-%m}.csv")


def _download(body: bytes, name: str) -> Response:
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}",
                             "Cache-Control": "no-store"})


# --------------------------------------------------------------------------- the platform
@bp.get("/admin/settlements")
@login_required
def desk():
    _operator()
    query = select(SettlementStatement).options(joinedload(SettlementStatement.organisation))
    month = settlement.parse_month(request.args.get("month", ""))
    if month is not None:
        query = query.where(SettlementStatement.month == month)
    status = request.args.get("status", "")
    if status in StatementStatus.ALL:
        query = query.where(SettlementStatement.status == status)
    pagination = paginate(
        query.order_by(SettlementStatement.month.desc(), SettlementStatement.organisation_id),
        per_page=PER_PAGE)
    rows = list(pagination.items)
    accounts = {a.organisation_id: a for a in db.session.scalars(
        select(BankAccount).where(BankAccount.organisation_id.in_(
            {r.organisation_id for r in rows})))} if rows else {}
    payable = settlement.payable()
    return render_template(
        "settlement/desk.html", pagination=pagination, rows=rows, accounts=accounts,
        month=month, status=status, labels=STATEMENT_STATUS_LABELS, payable=payable,
        payable_total=sum(t.statement.net for t in payable),
        issue_form=IssueForm(formdata=None, month=f"{settlement.last_month(utcnow()):%Y-%m}"),
    )


@bp.post("/admin/settlements/issue")
@login_required
@settlement_per_account
def issue():
    _operator()
    form = IssueForm()
    month = settlement.parse_month(form.month.data or "") if form.validate_on_submit() else None
    if month is None:
        flash(_("Write the month as YYYY-MM."), "error")
        return redirect(url_for(".desk"))
    try:
        issued = settlement.issue_month(month, actor=current_user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".desk"))
    except IntegrityError:  # issued at the same moment by someone else: theirs stands
        db.session.rollback()
        flash(_("The statements were being issued at the same time; see the list."), "error")
        return redirect(url_for(".desk", month=f"{month:%Y-%m}"))
    label = month.strftime("%Y-%m")
    flash(ngettext("%(num)d statement issued for %(month)s.",
                   "%(num)d statements issued for %(month)s.", len(issued), month=label),
          "success")
    return redirect(url_for(".desk", month=label))


TRANSFER_HEADER = ["은행코드", "은행명", "계좌번호", "예금주", "이체금액", "받는분통장표시",
                   "정산서번호"]


@bp.get("/admin/settlements/transfers.<any(csv, xlsx):kind>")
@login_required
def transfers(kind: str):
    """The bank's bulk-transfer file (docs/payments.md), as CSV or as an Excel sheet whose
    account numbers are text (leading zeros kept): full account numbers, so every download is
    written to the audit log."""
    _operator()
    rows = [[t.account.bank_code, t.account.bank_name, t.number, t.account.holder,
             t.statement.net, t.statement.memo, t.statement.id]
            for t in settlement.transfer_file(current_user)]
    db.session.commit()
    name = f"settlement-transfers-{_today().isoformat()}"
    if kind == "csv":
        return _download(csvfile.to_csv(TRANSFER_HEADER, rows), f"{name}.csv")
    return Response(_xlsx(rows), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename={name}.xlsx", "Cache-Control": "no-store"})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(rows) -> bytes:
    """One sheet; text cells written as strings (never formulas), amounts as numbers."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_numbers": False, "strings_to_urls": False})
    sheet = book.add_worksheet("대량이체")
    text = book.add_format({"num_format": "@"})
    for col, title in enumerate(TRANSFER_HEADER):
        sheet.write_string(0, col, title)
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if isinstance(value, int) and col in (4, 6):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, str(value), text)
    sheet.set_column(0, 6, 16)
    book.close()
    return out.getvalue()


transfers.writes_on_get = True


@bp.post("/admin/settlements/<int:statement_id>/paid")
@login_required
@settlement_per_account
def paid(statement_id: int):
    row = load_or_404(SettlementStatement, statement_id)
    _org(row.organisation_id)
    if not bank_accounts.can_operate(current_user):
        abort(403)  # the owner sees the statement; the platform records its transfer
    form = PaidForm()
    back = url_for(".statement", org_id=row.organisation_id, statement_id=row.id)
    if not form.validate_on_submit():
        flash(_errors(form), "error")
        return redirect(back)
    try:
        settlement.mark_paid(row, current_user, reference=required(form.reference.data),
                             paid_on=required(form.paid_on.data))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    flash(_("Transfer recorded."), "success")
    return redirect(back)
