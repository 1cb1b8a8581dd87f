"""The monthly report: the last month's figures as Excel and PDF, e-mailed on the 1st."""


def monthly_report_send() -> int:
    raise NotImplementedError
