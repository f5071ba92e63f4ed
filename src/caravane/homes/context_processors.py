"""Template context: the address of the signed-in user's home (the logo and the menu's first link)."""

from caravane.homes.selectors import home_url


def home(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"home_url": home_url(user)}
