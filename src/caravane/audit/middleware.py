"""Each request is served within an audit context: the gate's decisions become one audit row at its end."""

from caravane.audit import gate
from caravane.audit.context import client_address


class AuditMiddleware:
    """Records the request's client and path for audit rows, and writes the gate's row once the answer is known.

    An API call refused for want of a login is written too, as a security event (nobody to name as the actor).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with gate.audited(client_address=client_address(request), path=request.path,
                          method=request.method) as outcome:
            response = self.get_response(request)
            outcome["status"] = response.status_code
            if response.status_code == 401 and request.path.startswith("/api/"):
                gate.security_event("api.unauthenticated", reason="no valid session or token")
            return response
