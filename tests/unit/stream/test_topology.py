"""The worker's tables are exactly the changelogs `hst setup` creates (names and partitions)."""

from __future__ import annotations

from pathlib import Path

from pipeline.kafka.admin import changelog_tables, pipeline_topics
from pipeline.settings import Settings
from pipeline.stream.app import Pipeline


def test_the_apps_tables_and_topics_are_the_ones_created_up_front(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, partitions=4, ncbs="FRA,ITA")
    app = Pipeline(settings).app
    tables = {name: table.partitions for name, table in app.tables.items()}
    assert tables == dict(changelog_tables(settings))
    created = {spec.name: spec.partitions for spec in pipeline_topics(settings)}
    for name, table in app.tables.items():
        assert created[table.changelog_topic.get_topic_name()] == table.partitions, name
    # Every topic an agent reads is created, with the partitions the agent expects.
    for agent in app.agents.values():
        for topic in agent.channel.topics:
            assert topic in created, (agent.name, topic)
            assert agent.channel.partitions in (None, created[topic]), (agent.name, topic)


def test_each_agent_reads_exactly_the_topics_the_topology_gives_it(tmp_path: Path) -> None:
    from pipeline.topology import topology

    settings = Settings(data_dir=tmp_path, partitions=4, ncbs="FRA,ITA")
    plan = topology(settings)
    app = Pipeline(settings).app
    read = {
        agent.name.rsplit(".", 1)[-1]: set(agent.channel.topics) for agent in app.agents.values()
    }
    declared = {t.reader for t in plan.topics if t.reader}
    assert set(read) == declared
    for agent, topics in read.items():
        assert topics == {t.name for t in plan.read_by(agent)}, agent
