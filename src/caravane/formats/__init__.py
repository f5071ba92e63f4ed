"""Date and time formats for Morocco, the same in every language: day/month/year, 24-hour clock.

Django's own locale formats differ by language ("1 décembre 2026", "Dec. 1, 2026", Arabic month names);
a patient's papers and a nurse's screen should read one way. Only dates and times are set here: numbers keep
each language's separators from Django's locale modules.
"""

DATE_FORMAT = "d/m/Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "m/Y"
MONTH_DAY_FORMAT = "d/m"
FIRST_DAY_OF_WEEK = 1  # Monday
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S",
                          "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
