"""Template context: the logged-in user's staff record and scope."""


def current_staff(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"current_staff": None}
    return {"current_staff": getattr(user, "staff", None)}
