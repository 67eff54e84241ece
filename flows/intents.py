"""Words that mean something whatever menu the user is in.

Each detector takes an already normalised message (see
:func:`knowledge.text.normalise`) and says whether it is that intent. The
words are data on purpose: add a variant here when the unanswered-questions
report shows people saying it another way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Set

# fmt: off
MENU_PHRASES = (
    "que temas", "q temas", "temas tienes", "que puedes hacer", "en que me ayudas", "opciones",
    "what can you", "what topics", "options", "topics", "ver menu", "show menu",
)
MENU = frozenset({
    "menu", "0", "inicio", "principal", "menu principal", "start", "main menu", "home",
})
BACK = frozenset({
    "atras", "volver", "regresar", "back", "go back", "anterior",
})
HELP = frozenset({
    "ayuda", "help", "como funciona", "instrucciones", "como te uso", "how does this work",
})
PRIVACY = frozenset({
    "privacidad", "privacy", "mis datos", "my data", "datos personales", "aviso de privacidad",
})
STOP = frozenset({
    "stop", "baja", "darme de baja", "dar de baja", "unsubscribe", "parar", "no me escribas",
})
GREETINGS = frozenset(
    """
    hola buenas buenos dias tardes noches saludos epa epale hey hi hello good morning
    afternoon evening pana chamo que tal bendiciones start alo holis oye amigo amiga hermano
    mi hermana
    """.split()
)
THANKS = frozenset(
    """
    gracias thanks thank you ty mil muchas muchisimas dios te bendiga thx pana chamo much so
    very vale
    """.split()
)
OKAY = frozenset(
    """
    ok okay oki vale listo dale entendido perfecto bien chevere fino de acuerdo sure got it
    cool great good si yes mmm aja bueno ya
    """.split()
)
INSULTS = frozenset({
    "idiota", "estupido", "estupida", "mierda", "inutil", "basura", "marico", "mamaguevo",
    "stupid", "useless", "idiot", "shit", "fuck", "fucking", "coño", "cono", "carajo",
    "pendejo", "imbecil", "maldito", "bot de mierda",
})
PERSON = (
    "hablar con una persona", "hablar con un humano", "persona real",
    "un humano", "asesor", "operador", "agente", "talk to a person",
    "real person", "a human", "hablar con un asesor",
    "hablar con una persona real", "atencion humana", "alguien real",
)
#: Asks for a person only in a short message: in a story, "solo necesito hablar con
#: alguien" is a need for listening (Línea 113), not a request for the hand-off.
PERSON_IF_SHORT = (
    "hablar con alguien", "talk to someone", "speak to someone", "speak with someone",
)
PERSON_SHORT_WORDS = 8
#: A whole message that asks for a person ("persona", as the bot's own offers say to write).
PERSON_WORDS = frozenset({
    "persona", "person", "humano", "human", "agente", "agent", "asesor", "una persona",
    "a person", "operador", "hablar con persona",
})
#: Words that point back at something already said ("el carné ese", "esa visa").
DEMONSTRATIVES = frozenset({"ese", "esa", "esos", "esas", "aquel", "aquella"})
#: Answers to the hand-off's consent question (1 Sí / 2 No).
CONSENT_YES = frozenset({
    "1", "si", "yes", "acepto", "si acepto", "aceptar", "ok", "dale", "claro", "i agree",
    "agree", "de acuerdo", "si por favor", "yes please", "sip", "va",
})
CONSENT_NO = frozenset({
    "2", "no", "no acepto", "no gracias", "no thanks", "nope", "mejor no", "cancelar", "cancel",
})
#: Leaves a hand-off (besides the menu words).
EXIT = frozenset({
    "salir", "exit", "quit", "terminar", "cerrar", "salir del chat", "finalizar", "leave",
})
ENGLISH = frozenset({
    "english", "ingles", "in english", "en ingles", "speak english", "english please",
})
SPANISH = frozenset({
    "espanol", "spanish", "castellano", "en espanol", "in spanish", "habla espanol",
})
YES = frozenset({
    "si", "yes", "confirmo", "borrar", "borra", "borralo", "dale", "ok", "confirm", "delete",
    "si borrar", "si por favor", "yes please", "claro", "seguro",
})

_DELETE_VERBS = frozenset(
    """
    borrar borra borren borre eliminar elimina eliminen delete erase remove suprimir olvidame
    forget
    """.split()
)
_DELETE_OBJECTS = frozenset(
    """
    datos data informacion historial conversacion info me todo cuenta account history
    everything registro
    """.split()
)

#: Words that say a question is about violence (an audience for topic ranking; danger
#: itself is read by the classifier in flows/scoring/danger.py).
VIOLENCE_WORDS = frozenset(
    """
    violencia violence violento trata trafficking traficantes abuso abuse abusan abusaron
    abusando emergencia emergency peligro danger dangerous golpea golpean golpeo pega pegan
    amenaza amenazan amenazando amenazas violacion violaron violador secuestro secuestrado
    acoso acosan maltrato maltratan explotacion explotan auxilio socorro threatened threat
    threatening beaten beats hits rape raped kidnapped extorsion extorsionan extortion
    asaltaron agredio agresion matar matarme muerte persigue persiguen acosa incendio fuego
    quemando quema fire burning kill persecuted stalking stalker extorting extorted
    """.split()
)
ENGLISH_MARKERS = frozenset(
    """
    the what how where is are i my need do can you for with get want to of and please hello hi
    thanks help health school insurance refugee requirements card phone number which who have
    does there any in daughter son child apply free cost much english work job wife husband
    baby pregnant
    """.split()
)
SPANISH_MARKERS = frozenset(
    """
    que como donde el la los las de para necesito mi tengo hola gracias seguro colegio quiero
    hijo hija es un una por con y en cuanto cuesta puedo hay no tiene sacar requisitos ayuda
    salud buenas soy estoy esposa esposo trabajo bebe telefono numero espanol del al se lo le
    nos
    """.split()
)
STRONG_MARKERS = {
    "hello": 2,
    "hi": 2,
    "thanks": 2,
    "please": 2,
    "english": 3,
    "hola": 2,
    "gracias": 2,
    "espanol": 3,
    "the": 2,
    "que": 2,
    "what": 2,
    "how": 2,
    "necesito": 2,
    "need": 2,
}

_AGE = re.compile(r"\b(\d{1,2})\s*(anos|ano|anitos|years|year|yrs|yo|meses|mes|months|month)\b")

# fmt: on


def _words(normalised: str) -> list[str]:
    return normalised.split()


def is_only(normalised: str, vocabulary: Set[str]) -> bool:
    """True when every word of the message is in ``vocabulary``."""
    words = _words(normalised)
    return bool(words) and all(w in vocabulary for w in words)


def contains_phrase(normalised: str, phrases: Iterable[str]) -> bool:
    padded = f" {normalised} "
    return any(f" {phrase} " in padded for phrase in phrases)


def is_delete_request(normalised: str) -> bool:
    words = set(_words(normalised))
    if words & {"olvidame"} or normalised in {"forget me", "delete me"}:
        return True
    return bool(words & _DELETE_VERBS) and bool(words & _DELETE_OBJECTS) and len(words) <= 8


def audiences(normalised: str) -> set[str]:
    """Who the question is about, from ages and words ("bebé", "embarazada")."""
    found: set[str] = set()
    for number, unit in _AGE.findall(normalised):
        age = int(number)
        if unit.startswith(("mes", "month")) or age < 1 or age < 5:
            found |= {"baby", "child"}
        elif age < 18:
            found.add("child")
        elif age >= 60:
            found.add("elderly")
        else:
            found.add("adult")
    words = set(_words(normalised))
    groups = {
        "baby": {
            "bebe",
            "bebes",
            "bebito",
            "bebita",
            "recien",
            "nacido",
            "baby",
            "newborn",
            "infant",
            "lactante",
        },
        "child": {
            "hijo",
            "hija",
            "hijos",
            "hijas",
            "nino",
            "nina",
            "ninos",
            "ninas",
            "menor",
            "menores",
            "child",
            "children",
            "kid",
            "kids",
            "son",
            "daughter",
            "chamo",
            "chama",
            "chamito",
            "chamita",
            "minor",
            "minors",
        },
        "pregnant": {
            "embarazada",
            "embarazadas",
            "embarazo",
            "gestante",
            "gestantes",
            "pregnant",
            "pregnancy",
            "preñada",
            "prenada",
            "barriga",
        },
        "disability": {
            "discapacidad",
            "discapacitado",
            "discapacitada",
            "disability",
            "disabled",
            "conadis",
            "silla",
        },
        "violence": VIOLENCE_WORDS,
        "elderly": {
            "anciano",
            "anciana",
            "abuelo",
            "abuela",
            "abuelos",
            "elderly",
            "mayor",
            "mayores",
            "jubilado",
            "tercera",
        },
        "worker": {
            "trabajo",
            "trabajador",
            "independiente",
            "emprendedor",
            "negocio",
            "chamba",
            "work",
            "worker",
            "job",
            "empresa",
            "bodega",
        },
    }
    for audience, vocabulary in groups.items():
        if words & vocabulary:
            found.add(audience)
    return found


#: An age said of a person ("mi hija de 3 anos", "tiene 4 anitos", "is 3 years old"),
#: not a length of stay ("llevo 5 anos en peru").
_PERSON_AGE = re.compile(
    r"\b(?:de|tiene|tienen|cumple|cumplio|is|aged)\s+(\d{1,3})\s*(?:anos|anitos|ano|anito|years?)\b"
    r"|\b(\d{1,3})\s*years?\s*old\b"
)
_PERSON_MONTHS = re.compile(r"\b(?:de|tiene|is|aged)\s+(\d{1,2})\s*(?:meses|mesecitos|months?)\b")


def age_in(norm: str) -> int | None:
    """The age in whole years a normalised message gives ("mi hija de 3 anos" -> 3;
    "mi bebe de 8 meses" -> 0), if it gives one."""
    found = _PERSON_AGE.search(norm)
    if found:
        return int(found.group(1) or found.group(2))
    months = _PERSON_MONTHS.search(norm)
    return int(months.group(1)) // 12 if months else None
