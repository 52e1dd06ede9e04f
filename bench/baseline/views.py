from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bench.baseline.models import Row


@csrf_exempt
@require_POST
def insert(request: HttpRequest) -> HttpResponse:
    """Insert one row from the form and answer 303, as the signing view does."""
    Row.objects.create(
        name=request.POST.get("name", "")[:100], email=request.POST.get("email", "")[:254]
    )
    response = HttpResponseRedirect("/bench/inserted/")
    response.status_code = 303
    return response
