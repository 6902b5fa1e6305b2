"""The gateway's configuration: the variables the launcher gives HAProxy, and the one file
native and compose share (checked by HAProxy itself when it is installed)."""

import os
import re
import shutil
import subprocess

import pytest

from manage_scripts.stack import StackError
from manage_scripts.stack.config import StackConfig
from manage_scripts.stack.gateway import (
    GATEWAY_CONFIG,
    MAX_INSTANCES,
    gateway_env,
    gateway_server_states,
)
from manage_scripts.stack.launch import stack_apps
from shared_events.headers import REQUEST_ID_PATTERN


def _config(**env: str) -> StackConfig:
    return StackConfig.from_env({"ORDER_PORT": "8001", "INVENTORY_PORT": "8002", **env})


def test_each_instance_listens_ten_ports_above_the_previous_one():
    config = _config(WEB_INSTANCES="3", GATEWAY_PORT="7000", GATEWAY_RATE_LIMIT="42")

    env = gateway_env(config)

    assert env["ORDER_WEB_1"] == "127.0.0.1:8001"
    assert env["ORDER_WEB_3"] == "127.0.0.1:8021"
    assert env["INVENTORY_WEB_2"] == "127.0.0.1:8012"
    assert env["STOREFRONT_WEB_1"] == "127.0.0.1:8003"
    assert "ORDER_WEB_4" not in env
    assert (env["GATEWAY_PORT"], env["GATEWAY_INTERNAL_PORT"]) == ("7000", "7009")
    assert env["GATEWAY_RATE_LIMIT"] == "42"


def test_the_defaults_are_two_instances_behind_port_8000():
    config = _config()

    assert config.instance_ports("order") == [8001, 8011]
    assert (config.ports["gateway"], config.ports["gateway_internal"]) == (8000, 8009)
    assert config.gateway_rate_limit >= 100  # a person shopping never meets it


def test_without_the_storefront_the_services_and_the_gateway_still_start():
    config = _config(WEB_INSTANCES="2")

    names = {p.name for p in stack_apps(config, storefront=False)}

    assert {"order-web-2", "inventory-consumer", "gateway"} <= names
    assert not [n for n in names if n.startswith("storefront")], names
    whole = {p.name for p in stack_apps(config, storefront=True)}
    assert {"storefront-web-1", "storefront-web-2", "storefront-consumer"} <= whole


@pytest.mark.parametrize(
    "env",
    [
        {"WEB_INSTANCES": "0"},
        {"WEB_INSTANCES": str(MAX_INSTANCES + 1)},
        {"GATEWAY_RATE_LIMIT": "0"},
    ],
)
def test_settings_the_file_cannot_honour_stop_the_launcher(env):
    with pytest.raises(StackError):
        gateway_env(_config(**env))


def test_the_file_names_a_server_line_for_every_instance_the_launcher_may_start():
    text = GATEWAY_CONFIG.read_text()
    for backend in ("order", "inventory", "storefront"):
        for n in range(1, MAX_INSTANCES + 1):
            assert f'server {backend}-{n} "${{{backend.upper()}_WEB_{n}}}" check' in text


def test_the_gateway_and_the_services_accept_the_same_request_ids():
    text = GATEWAY_CONFIG.read_text()

    patterns = set(re.findall(r"req\.fhdr\(x-request-id\) -m reg \^(\S+)\$", text))

    assert patterns == {REQUEST_ID_PATTERN}


@pytest.mark.skipif(not shutil.which("haproxy"), reason="haproxy is not installed")
@pytest.mark.parametrize("instances", ["1", "2", str(MAX_INSTANCES)])
def test_haproxy_accepts_the_file_with_the_launchers_variables(instances):
    env = {**os.environ, **gateway_env(_config(WEB_INSTANCES=instances))}

    result = subprocess.run(
        ["haproxy", "-c", "-f", str(GATEWAY_CONFIG)], env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr


def test_the_instances_states_are_read_from_haproxys_csv_statistics():
    csv_text = (
        "# pxname,svname,qcur,status\n"
        "public,FRONTEND,,OPEN\n"
        "order,order-1,0,UP\n"
        "order,order-2,0,DOWN 1/2\n"
        "order,BACKEND,0,UP\n"
        "storefront,storefront-1,0,MAINT\n"
    )

    assert gateway_server_states(csv_text) == {
        "order-1": "UP",
        "order-2": "DOWN 1/2",
        "storefront-1": "MAINT",
    }
