"""The analysts' workspace in Kibana, as saved objects (exported to ``deploy/kibana/hst.ndjson``).

Data views on the message and synthesis indices, saved searches (by person, document,
phone, network, high priority, minors involved), aggregation-based visualisations, a map,
and three dashboards: incidents and routes, trends and networks, pipeline health.
Every field named here must exist in the index templates with a type its use needs
(``tests/unit/kibana`` checks it).
"""

from __future__ import annotations

import json
from typing import Any

MESSAGES = "hst-messages"
SYNTHESIS = "hst-synthesis"
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"


def _source(query: str = "", filters: list[Any] | None = None) -> dict[str, Any]:
    return {"searchSourceJSON": json.dumps({
        "query": {"query": query, "language": "kuery"}, "filter": filters or [],
        "indexRefName": INDEX_REF})}  # fmt: skip


def data_view(view_id: str, title: str, time_field: str) -> dict[str, Any]:
    """A data view (``index-pattern``) on an alias."""
    return {"type": "index-pattern", "id": view_id, "attributes": {"title": title, "name": title,
            "timeFieldName": time_field}, "references": []}  # fmt: skip


def saved_search(search_id: str, title: str, query: str, columns: list[str],
                 sort: list[list[str]], view: str = MESSAGES) -> dict[str, Any]:  # fmt: skip
    """A saved search (Discover) with its KQL query and columns."""
    return {
        "type": "search", "id": search_id,
        "attributes": {"title": title, "description": "", "columns": columns, "sort": sort,
                       "kibanaSavedObjectMeta": _source(query)},
        "references": [{"name": INDEX_REF, "type": "index-pattern", "id": view}],
    }  # fmt: skip


def visualization(vis_id: str, title: str, vis_type: str, aggs: list[dict[str, Any]],
                  params: dict[str, Any] | None = None, view: str = MESSAGES,
                  query: str = "") -> dict[str, Any]:  # fmt: skip
    """An aggregation-based visualisation."""
    state = {"title": title, "type": vis_type, "params": params or {}, "aggs": aggs}
    return {
        "type": "visualization", "id": vis_id,
        "attributes": {"title": title, "visState": json.dumps(state), "uiStateJSON": "{}",
                       "description": "", "kibanaSavedObjectMeta": _source(query)},
        "references": [{"name": INDEX_REF, "type": "index-pattern", "id": view}],
    }  # fmt: skip


def _count() -> dict[str, Any]:
    return {"id": "1", "enabled": True, "type": "count", "schema": "metric", "params": {}}


def _sum(agg_id: str, field: str, label: str) -> dict[str, Any]:
    return {"id": agg_id, "enabled": True, "type": "sum", "schema": "metric",
            "params": {"field": field, "customLabel": label}}  # fmt: skip


def _terms(
    agg_id: str, field: str, size: int, schema: str = "bucket", label: str = ""
) -> dict[str, Any]:
    return {"id": agg_id, "enabled": True, "type": "terms", "schema": schema,
            "params": {"field": field, "size": size, "order": "desc", "orderBy": "1",
                       "customLabel": label or field}}  # fmt: skip


def _weeks(agg_id: str, field: str, schema: str = "segment") -> dict[str, Any]:
    return {"id": agg_id, "enabled": True, "type": "date_histogram", "schema": schema,
            "params": {"field": field, "calendar_interval": "1w", "min_doc_count": 0,
                       "extended_bounds": {}}}  # fmt: skip


def incident_map() -> dict[str, Any]:
    """Incidents on a map: one point per message at its incident place, sized by the dead."""
    layers = [
        {"id": "basemap", "type": "EMS_VECTOR_TILE", "sourceDescriptor": {"type": "EMS_TMS", "isAutoSelect": True},
         "visible": True, "alpha": 1},
        {"id": "incidents", "type": "GEOJSON_VECTOR", "label": "Incidents", "visible": True, "alpha": 0.75,
         "sourceDescriptor": {"type": "ES_SEARCH", "id": "incidents-source", "geoField": "location",
                              "indexPatternRefName": "layer_1_source_index_pattern", "scalingType": "CLUSTERS",
                              "tooltipProperties": ["message_id", "source_ncb", "route.path", "counts.dead",
                                                    "counts.missing", "incident.incident_type"],
                              "sortField": "priority_score", "sortOrder": "desc"},
         "style": {"type": "VECTOR", "properties": {
             "fillColor": {"type": "STATIC", "options": {"color": "#CF222E"}},
             "iconSize": {"type": "DYNAMIC", "options": {"field": {"name": "counts.dead", "origin": "source"},
                                                          "minSize": 4, "maxSize": 24}}}}},
    ]  # fmt: skip
    return {
        "type": "map", "id": "hst-map-incidents",
        "attributes": {"title": "HST: incidents on the map", "description": "Incident places (given, else the country's reference point).",
                       "layerListJSON": json.dumps(layers),
                       "mapStateJSON": json.dumps({"zoom": 2.5, "center": {"lon": 20, "lat": 30},
                                                   "timeFilters": {"from": "now-1y", "to": "now"},
                                                   "query": {"query": "", "language": "kuery"}, "filters": []}),
                       "uiStateJSON": "{}"},
        "references": [{"name": "layer_1_source_index_pattern", "type": "index-pattern", "id": MESSAGES}],
    }  # fmt: skip


def dashboard(
    dash_id: str, title: str, description: str, panels: list[tuple[str, str]]
) -> dict[str, Any]:
    """A dashboard of (type, id) panels laid out two per row."""
    layout = []
    refs = []
    for i, (kind, ref_id) in enumerate(panels):
        name = f"panel_{i}"
        layout.append({"panelIndex": str(i), "type": kind, "panelRefName": name, "embeddableConfig": {},
                       "gridData": {"x": 24 * (i % 2), "y": 15 * (i // 2), "w": 24, "h": 15, "i": str(i)}})  # fmt: skip
        refs.append({"name": name, "type": kind, "id": ref_id})
    return {
        "type": "dashboard", "id": dash_id,
        "attributes": {"title": title, "description": description, "panelsJSON": json.dumps(layout),
                       "optionsJSON": json.dumps({"useMargins": True, "syncColors": True}),
                       "timeRestore": True, "timeFrom": "now-1y", "timeTo": "now",
                       "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(
                           {"query": {"query": "", "language": "kuery"}, "filter": []})}},
        "references": refs,
    }  # fmt: skip


def saved_objects() -> list[dict[str, Any]]:
    """Every saved object of the workspace, referenced objects first."""
    persons_cols = ["source_ncb", "route.path", "priority_score", "network_id"]
    objects = [
        data_view(MESSAGES, MESSAGES, "event_time"),
        data_view(SYNTHESIS, SYNTHESIS, "window_start"),
        saved_search("hst-search-person", "HST: by person (edit the name)",
                     'persons:{ name_latin : "mohammed" }', persons_cols, [["event_time", "desc"]]),
        saved_search("hst-search-document", "HST: by travel document (edit the number)",
                     'persons:{ documents.number_normalised : "P1234567" }', persons_cols, [["event_time", "desc"]]),
        saved_search("hst-search-phone", "HST: by phone (E.164, edit the number)",
                     'persons:{ phones.e164 : "+218912345678" }', persons_cols, [["event_time", "desc"]]),
        saved_search("hst-search-network", "HST: messages in networks",
                     "network_id : *", ["network_id", "source_ncb", "route.path", "priority_score"],
                     [["network_id", "asc"], ["event_time", "desc"]]),
        saved_search("hst-search-priority", "HST: high priority (score 50 and more)",
                     "priority_score >= 50", ["priority_score", "priority_reasons", "source_ncb", "route.path"],
                     [["priority_score", "desc"]]),
        saved_search("hst-search-minors", "HST: minors involved",
                     "contains_minor_effective : true", ["source_ncb", "route.path", "counts.minors", "counts.victims"],
                     [["event_time", "desc"]]),
        saved_search("hst-search-alerts", "HST: synthesis alerts", "kind : \"ALERT\"",
                     ["dimension", "value", "z", "reason"], [["window_start", "desc"]], view=SYNTHESIS),
        incident_map(),
        visualization("hst-vis-routes", "HST: top routes", "table",
                      [_count(), _terms("2", "route.path", 20, label="route"),
                       _sum("3", "counts.dead", "dead"), _sum("4", "counts.missing", "missing")],
                      {"perPage": 20, "showTotal": True}),
        visualization("hst-vis-flows", "HST: flows, origin to destination", "table",
                      [_count(), _terms("2", "route.origin_country", 15, label="origin"),
                       _terms("3", "route.destination_country", 15, label="destination")],
                      {"perPage": 25}),
        visualization("hst-vis-weekly-exploitation", "HST: messages per week by type of exploitation", "histogram",
                      [_count(), _weeks("2", "event_time"),
                       _terms("3", "incident.exploitation_types", 8, schema="group", label="exploitation")],
                      {"type": "histogram", "addLegend": True, "legendPosition": "right"}),
        visualization("hst-vis-weekly-incidents", "HST: dead and missing per week", "line",
                      [_sum("1", "counts.dead", "dead"), _sum("2", "counts.missing", "missing"),
                       _weeks("3", "event_time")],
                      {"type": "line", "addLegend": True}),
        visualization("hst-vis-networks", "HST: largest networks", "table",
                      [_count(), _terms("2", "network_id", 20, label="network"),
                       _terms("3", "source_ncb", 10, label="reporting NCB")], {"perPage": 20}),
        visualization("hst-vis-ingest", "HST: messages indexed per hour by source NCB", "histogram",
                      [_count(), {"id": "2", "enabled": True, "type": "date_histogram", "schema": "segment",
                                  "params": {"field": "processing.indexed_at", "fixed_interval": "1h"}},
                       _terms("3", "source_ncb", 10, schema="group", label="source NCB")],
                      {"type": "histogram", "addLegend": True}),
        visualization("hst-vis-priority", "HST: priority reasons", "pie",
                      [_count(), _terms("2", "priority_reasons", 10)], {"isDonut": True}),
        visualization("hst-vis-alerts", "HST: trend alerts by series", "table",
                      [_count(), _terms("2", "series", 20, label="series")], {"perPage": 20},
                      view=SYNTHESIS, query='kind : "ALERT"'),
        visualization("hst-vis-synthesis-weeks", "HST: weekly messages per region (synthesis)", "line",
                      [_sum("1", "measures.messages", "messages"), _weeks("2", "window_start"),
                       _terms("3", "value", 8, schema="group", label="region")],
                      {"type": "line", "addLegend": True}, view=SYNTHESIS,
                      query='kind : "CELL" and granularity : "week" and dimension : "region"'),
    ]  # fmt: skip
    objects += [
        dashboard("hst-dash-incidents", "HST: incidents and routes",
                  "Where incidents happen and the routes they follow.",
                  [("map", "hst-map-incidents"), ("visualization", "hst-vis-routes"),
                   ("visualization", "hst-vis-flows"), ("search", "hst-search-priority")]),
        dashboard("hst-dash-trends", "HST: trends and networks",
                  "Weekly trends by type of exploitation, dead and missing, alerts and the largest networks.",
                  [("visualization", "hst-vis-weekly-exploitation"), ("visualization", "hst-vis-weekly-incidents"),
                   ("visualization", "hst-vis-synthesis-weeks"), ("visualization", "hst-vis-alerts"),
                   ("visualization", "hst-vis-networks"), ("search", "hst-search-network")]),
        dashboard("hst-dash-health", "HST: pipeline health",
                  "Messages indexed per hour by source NCB, priority reasons, minors. Dead letters stay in "
                  "Kafka (hst dlq list) and consumer lag in Prometheus (hst_* metrics, hst stats).",
                  [("visualization", "hst-vis-ingest"), ("visualization", "hst-vis-priority"),
                   ("search", "hst-search-minors")]),
    ]  # fmt: skip
    return objects


def to_ndjson(objects: list[dict[str, Any]]) -> str:
    """Kibana's import format: one object per line."""
    return "".join(json.dumps(o, sort_keys=True, ensure_ascii=False) + "\n" for o in objects)
