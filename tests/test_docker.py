"""The Dockerfile and docker-compose.yml: Docker cannot run here, so what can be checked is checked: both
parse, and the paths and port they name are the settings' defaults and the files the image needs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

from bot.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def dockerfile() -> DockerfileParser:
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"), cache_content=True)
    assert parser.structure, "the Dockerfile parses to instructions"
    return parser


def instructions(parser: DockerfileParser, name: str) -> list[str]:
    return [item["value"] for item in parser.structure if item["instruction"] == name]


def test_the_image_is_slim_python_and_runs_serve_as_a_non_root_user() -> None:
    parser = dockerfile()
    assert parser.baseimage.startswith("python:") and parser.baseimage.endswith("-slim")
    assert instructions(parser, "USER")[-1] not in ("root", "0")
    assert json.loads(instructions(parser, "CMD")[-1]) == ["integration-bot", "serve"]
    assert instructions(parser, "STOPSIGNAL") == ["SIGTERM"]
    # Everything it copies is in the repository and is what `pip install .` needs.
    for value in instructions(parser, "COPY"):
        for source in value.split()[:-1]:
            assert (ROOT / source).exists(), source
    packages = {value.split()[0] for value in instructions(parser, "COPY")}
    assert {"bot", "handlers", "storage"} <= packages


def test_the_database_is_on_the_volume_and_the_port_is_the_default() -> None:
    parser = dockerfile()
    defaults = load_settings({}, dotenv=None)
    db = parser.envs["INTEGRATION_BOT_DB"]
    (volume,) = json.loads(instructions(parser, "VOLUME")[-1])
    assert os.path.dirname(db) == volume and os.path.basename(db) == defaults.db_path
    assert instructions(parser, "WORKDIR")[-1] == volume  # a relative INTEGRATION_BOT_DB lands there too
    assert parser.envs["PORT"] == str(defaults.port) == instructions(parser, "EXPOSE")[-1]
    (healthcheck,) = instructions(parser, "HEALTHCHECK")
    assert "/healthz" in healthcheck and f"'{defaults.port}'" in healthcheck
    # The settings the image sets are ones the bot accepts.
    settings = load_settings({"INTEGRATION_BOT_DB": "integration-bot.db", "PORT": parser.envs["PORT"]}, dotenv=None)
    assert settings.port == defaults.port


def test_compose_builds_this_image_with_the_same_volume_port_and_a_long_enough_stop() -> None:
    parser = dockerfile()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["integration-bot"]
    assert "profiles" not in service  # `docker compose up` runs it, on SQLite
    assert service["build"] == "."
    (volume,) = json.loads(instructions(parser, "VOLUME")[-1])
    (mount,) = service["volumes"]
    name, target = mount.split(":")
    assert target == volume and name in compose["volumes"]
    assert service["environment"]["INTEGRATION_BOT_DB"] == parser.envs["INTEGRATION_BOT_DB"]
    port = str(load_settings({}, dotenv=None).port)
    assert service["environment"]["PORT"] == port and service["ports"] == [f"{port}:{port}"]
    # The bot takes up to 10 s after SIGTERM; Docker must wait longer before SIGKILL.
    assert int(service["stop_grace_period"].rstrip("s")) > 10


def test_compose_has_a_postgres_profile_with_two_replicas_on_one_database() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    postgres, replica = compose["services"]["postgres"], compose["services"]["integration-bot-replica"]
    assert postgres["profiles"] == replica["profiles"] == ["postgres"]
    assert replica["deploy"]["replicas"] == 2 and replica["build"] == "."
    assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = replica["environment"]["DATABASE_URL"].replace("${POSTGRES_PASSWORD:-integration_bot}", "integration_bot")
    assert url == "postgresql://integration_bot:integration_bot@postgres:5432/integration_bot"
    assert load_settings({"DATABASE_URL": url}, dotenv=None).database_url == url
    assert int(replica["stop_grace_period"].rstrip("s")) > 10
    # The URL names the user, password and database the server is made with, at the service's name.
    env = postgres["environment"]
    made = f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@postgres:5432/{env['POSTGRES_DB']}"
    assert replica["environment"]["DATABASE_URL"] == made
    # Healthy means answering: the server by pg_isready on that database, each replica by the image's /healthz.
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"] and env["POSTGRES_DB"] in postgres["healthcheck"]["test"]
    assert "healthcheck" not in replica and any("/healthz" in value for value in instructions(dockerfile(), "HEALTHCHECK"))
    # Two replicas, one host port each, the bot's port inside.
    low, high = replica["ports"][0].split(":")[0].split("-")
    assert int(high) - int(low) + 1 == replica["deploy"]["replicas"]
    assert replica["ports"][0].endswith(f":{replica['environment']['PORT']}")


def test_compose_moves_the_sqlite_volume_into_the_same_postgres_database() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    sqlite, replica = compose["services"]["integration-bot"], compose["services"]["integration-bot-replica"]
    move = compose["services"]["migrate-from-sqlite"]
    assert move["profiles"] == ["migrate"]  # never started by `up`
    assert move["environment"]["DATABASE_URL"] == replica["environment"]["DATABASE_URL"]
    assert move["volumes"] == sqlite["volumes"]
    assert move["command"] == ["integration-bot", "migrate", "--from-sqlite", sqlite["environment"]["INTEGRATION_BOT_DB"]]
    assert move["depends_on"]["postgres"]["condition"] == "service_healthy"
