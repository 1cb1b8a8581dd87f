"""API of the sales figures."""


def register(router) -> None:
    pass
