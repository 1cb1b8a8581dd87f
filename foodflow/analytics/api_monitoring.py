"""API of process monitoring. (Helper A.)"""


def register(router) -> None:
    pass
