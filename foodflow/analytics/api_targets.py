"""API of targets and KPI appraisal. (Helper B.)"""


def register(router) -> None:
    pass
