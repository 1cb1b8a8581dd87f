from django.utils import translation
from rest_framework.authentication import TokenAuthentication


class UserLanguageTokenAuthentication(TokenAuthentication):
    """Token authentication that, like the web UI, answers in the user's own language.

    Tokens are read only when a view runs, after the language middleware has chosen from the
    cookie and the default: the choice is made again here once the user is known."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        translation.activate(user.language)
        return user, token
