"""Provider billing APIs (Anthropic's Usage & Cost Admin API, OpenAI's organization Usage and
Costs APIs): pull what the organization was billed for into ``api_usage`` and ``api_costs``, and
set it beside what the local logs account for (``reconcile``). Shapes: docs/PROVIDER_APIS.md."""
