"""Local dates in Asia/Shanghai: the fast path of ``local_date`` agrees with zoneinfo at every hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eightstep.timeutil import LOCAL_TZ, local_date


def test_local_date_agrees_with_zoneinfo_across_the_dst_years() -> None:
    """China kept summer time in 1986-1991: the offset changed then, always on the hour."""
    moment, end = datetime(1985, 1, 1, tzinfo=UTC), datetime(1993, 1, 1, tzinfo=UTC)
    checked = 0
    while moment < end:
        for minutes in (0, 1, 59):
            when = moment + timedelta(minutes=minutes)
            assert local_date(when) == when.astimezone(LOCAL_TZ).date(), when
            checked += 1
        moment += timedelta(hours=1)
    assert checked == 3 * 24 * 2922


def test_local_date_of_a_naive_time_is_that_of_utc() -> None:
    assert local_date(datetime(2025, 9, 30, 16, 0)) == datetime(2025, 10, 1).date()
    assert local_date(datetime(2025, 9, 30, 15, 59, 59)) == datetime(2025, 9, 30).date()
