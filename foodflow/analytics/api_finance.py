"""API of the receivables and service figures. (Helper C.)"""


def register(router) -> None:
    pass
