"""Whose data a request is about: an org-wide install's requests share the org's data, from
whichever of its workspaces they come; a workspace installed on its own keeps its own."""

from __future__ import annotations

from bot.domain.workspace import data_key


def test_every_workspace_of_an_org_wide_install_keys_its_data_by_the_org() -> None:
    assert data_key("T0SALES", "E0ACME", org_wide=True) == "E0ACME"
    assert data_key("T0ENG", "E0ACME", org_wide=True) == "E0ACME"


def test_an_org_wide_event_names_no_workspace_and_is_still_the_orgs() -> None:
    # Events to an org-wide install are authorized for the org, with no workspace.
    assert data_key(None, "E0ACME", org_wide=True) == "E0ACME"


def test_a_workspace_installed_on_its_own_keeps_its_data_in_an_org_or_not() -> None:
    assert data_key("T0SALES", "E0ACME", org_wide=False) == "T0SALES"
    assert data_key("T0NORTH", None, org_wide=False) == "T0NORTH"


def test_no_org_means_the_workspace_whatever_the_flag_says() -> None:
    assert data_key("T0NORTH", None, org_wide=True) == "T0NORTH"
