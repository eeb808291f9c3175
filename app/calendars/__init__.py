"""Calendars: iCalendar (.ics) files and subscription feeds of bookings."""
