"""Privacy rights under the Personal Information Protection Act (개인정보 보호법): a person's
copy of their data (`export`), the erasure of an account (`erasure`: by its owner, or by the
retention of inactive accounts in `retention`). See docs/privacy.md.

Above bookings, payments and notifications: erasing an account cancels its future bookings by
the normal rules (refunds included) before the personal data goes."""
