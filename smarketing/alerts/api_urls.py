from rest_framework.routers import SimpleRouter

from .api import DestinationViewSet, RuleViewSet

router = SimpleRouter()
router.register("destinations", DestinationViewSet, basename="alert-destination")
router.register("rules", RuleViewSet, basename="alert-rule")
urlpatterns = router.urls
