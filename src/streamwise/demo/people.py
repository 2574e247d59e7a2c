"""The people of the demo organisation and their accounts in Jira and GitHub.

Usernames differ between tools on purpose (``anna.weber`` in Jira, ``aweber`` on GitHub), so
the demo exercises identity mapping the way a real organisation would.
"""

from dataclasses import dataclass

import numpy as np

from streamwise.demo.organisation import STREAMS

FIRST_NAMES = (
    "Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hannah", "Ivan", "Jonas",
    "Katja", "Lukas", "Mara", "Niklas", "Olga", "Paul", "Rosa", "Samir", "Tobias", "Ute",
    "Vera", "Wanja", "Yusuf", "Zoe", "Amir", "Birte", "Chiara", "Deniz", "Emil", "Frieda",
    "Georg", "Ines", "Jan", "Lea", "Malte", "Nora", "Omar", "Pia", "Rafael", "Sofia",
)  # fmt: skip
LAST_NAMES = (
    "Weber", "Schmidt", "Novak", "Yilmaz", "Fischer", "Larsen", "Rossi", "Kowalski", "Becker",
    "Hoffmann", "Meyer", "Wagner", "Costa", "Nowak", "Berg", "Koch", "Richter", "Klein",
    "Wolf", "Neumann", "Schulz", "Krause", "Lang", "Brandt", "Haas", "Vogel", "Jansen",
    "Petrov", "Moreau", "Lindqvist", "Santos", "Horvat", "Keller", "Frank", "Arslan",
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    team: str
    role: str  # developer, tester or product owner
    jira: str
    github: str | None  # testers and product owners do not push code


@dataclass(frozen=True)
class TeamPeople:
    developers: tuple[Person, ...]
    testers: tuple[Person, ...]
    owner: Person


def _github_login(first: str, last: str, style: int) -> str:
    first, last = first.lower(), last.lower()
    styles = (f"{first[0]}{last}", f"{first}{last[0]}", f"{first}-{last}", f"{last}{first[0]}")
    return styles[style % len(styles)]


def generate_people(rng: np.random.Generator) -> dict[str, TeamPeople]:
    """Draw distinct names for every team's developers, testers and product owner."""
    names = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    needed = sum(team.developers + team.testers + 1 for stream in STREAMS for team in stream.teams)
    chosen = rng.choice(len(names), size=needed, replace=False).tolist()
    styles = rng.integers(0, 4, size=needed).tolist()
    position = 0
    people: dict[str, TeamPeople] = {}
    for stream in STREAMS:
        for team in stream.teams:
            members: dict[str, list[Person]] = {"developer": [], "tester": [], "product owner": []}
            roles = ["developer"] * team.developers + ["tester"] * team.testers + ["product owner"]
            for role in roles:
                first, last = names[chosen[position]]
                login = _github_login(first, last, styles[position])
                position += 1
                members[role].append(
                    Person(
                        name=f"{first} {last}",
                        email=f"{first}.{last}@acme.example".lower(),
                        team=team.key,
                        role=role,
                        jira=f"{first}.{last}".lower(),
                        github=login if role == "developer" else None,
                    )
                )
            people[team.key] = TeamPeople(
                developers=tuple(members["developer"]),
                testers=tuple(members["tester"]),
                owner=members["product owner"][0],
            )
    return people
