"""Every word of the public web form, in English and French: labels, help, choices and errors."""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("en", "fr")

TEXTS: Final[dict[str, tuple[str, str]]] = {
    "title": ("Report a situation of human trafficking", "Signaler une situation de traite de personnes"),
    "hotline": (
        "Canadian Human Trafficking Hotline",
        "Ligne d'urgence canadienne contre la traite de personnes",
    ),
    "other_language": ("Français", "English"),
    "quick_exit": ("Quick exit", "Sortie rapide"),
    "quick_exit_help": (
        "Leave this site at once for a neutral page.",
        "Quitter ce site immédiatement pour une page neutre.",
    ),
    "emergency": (
        "In immediate danger? Call 911. To talk to someone now, call the hotline at {phone}, 24 hours a day.",
        "En danger immédiat? Composez le 911. Pour parler à quelqu'un maintenant, appelez la Ligne "
        "d'urgence au {phone}, 24 heures sur 24.",
    ),
    "privacy_title": ("Your safety online", "Votre sécurité en ligne"),
    "privacy": (
        "This site sets no cookies and loads nothing from other sites. It keeps nothing about your device "
        "or network. If someone may check this device, use a private window, and afterwards clear your "
        "browser's history for this site (in most browsers: Ctrl+H, or History in the menu). The quick "
        "exit button leaves this page, but the page can still be in your history.",
        "Ce site ne dépose aucun témoin (cookie) et ne charge rien d'autres sites. Il ne conserve rien sur "
        "votre appareil ou votre réseau. Si quelqu'un peut consulter cet appareil, utilisez une fenêtre de "
        "navigation privée, puis effacez l'historique de votre navigateur pour ce site (dans la plupart des "
        "navigateurs : Ctrl+H, ou Historique dans le menu). Le bouton de sortie rapide quitte cette page, "
        "mais elle peut rester dans votre historique.",
    ),
    "intro": (
        "You do not need to give your name. Fields marked required must be filled in; everything else helps "
        "us but is optional.",
        "Vous n'avez pas à donner votre nom. Les champs marqués obligatoires doivent être remplis; tout le "
        "reste nous aide, mais est facultatif.",
    ),
    "required": ("required", "obligatoire"),
    "errors_title": (
        "The report was not sent. Please correct:",
        "Le signalement n'a pas été envoyé. Veuillez corriger :",
    ),
    "reporter_role": ("Who are you in this situation?", "Qui êtes-vous dans cette situation?"),
    "what": ("What happened", "Ce qui s'est passé"),
    "narrative": ("Tell us what happened", "Racontez-nous ce qui s'est passé"),
    "narrative_help": (
        "Who, what, when and where, as far as you know. Up to 20,000 characters.",
        "Qui, quoi, quand et où, autant que vous le savez. Jusqu'à 20 000 caractères.",
    ),
    "where": ("Where", "Où"),
    "country": ("Country", "Pays"),
    "province": ("Province or territory", "Province ou territoire"),
    "province_none": ("Not sure, or outside Canada", "Je ne sais pas, ou hors du Canada"),
    "city": ("City or town", "Ville ou municipalité"),
    "situation": ("The situation", "La situation"),
    "minor_involved": ("Is anyone involved under 18?", "Une personne de moins de 18 ans est-elle touchée?"),
    "imminent_danger": ("Is someone in danger right now?", "Quelqu'un est-il en danger en ce moment?"),
    "trafficking_types": (
        "What kind of exploitation? (any that apply)",
        "Quel type d'exploitation? (tous ceux qui s'appliquent)",
    ),
    "contact": ("If you want us to be able to reach you", "Si vous voulez que nous puissions vous joindre"),
    "contact_help": (
        "Leave these empty to stay anonymous.",
        "Laissez ces champs vides pour rester anonyme.",
    ),
    "name": ("Name or nickname", "Nom ou surnom"),
    "phone": ("Phone", "Téléphone"),
    "email": ("Email", "Courriel"),
    "consent": ("What you allow", "Ce que vous permettez"),
    "law_enforcement": (
        "You may share this report with the police",
        "Vous pouvez transmettre ce signalement à la police",
    ),
    "service_referral": (
        "You may refer me or the person concerned to support services",
        "Vous pouvez m'orienter, ou orienter la personne concernée, vers des services d'aide",
    ),
    "share_identity": (
        "You may give my contact details to those you share the report with",
        "Vous pouvez donner mes coordonnées à ceux à qui vous transmettez le signalement",
    ),
    "statistics": (
        "May this report be counted in the hotline's public statistics?",
        "Ce signalement peut-il être compté dans les statistiques publiques de la Ligne d'urgence?",
    ),
    "statistics_help": (
        "The hotline publishes numbers only: how many reports, by province, type and month, grouped so that "
        "no one can be recognised, and never a number under 20. Nothing you write is published. If you "
        "do not answer, your report is counted; if you answer no, it never is.",
        "La Ligne d'urgence publie seulement des nombres : combien de signalements, par province, type et "
        "mois, regroupés pour que personne ne puisse être reconnu, et jamais un nombre inférieur à 20. Rien "
        "de ce que vous écrivez n'est publié. Si vous ne répondez pas, votre signalement est compté; si vous "
        "répondez non, il ne l'est jamais.",
    ),
    "statistics_yes": ("Yes, count it", "Oui, le compter"),
    "statistics_no": ("No, leave it out", "Non, ne pas le compter"),
    "submit": ("Send the report", "Envoyer le signalement"),
    "yes": ("Yes", "Oui"),
    "no": ("No", "Non"),
    "unknown": ("I don't know", "Je ne sais pas"),
    "thanks_title": ("Your report was received", "Votre signalement a été reçu"),
    "thanks": (
        "Thank you. A specialist will read it. Write down these two codes now: they are shown only once, "
        "and nobody can show them to you again.",
        "Merci. Une ou un spécialiste le lira. Notez ces deux codes maintenant : ils ne sont affichés "
        "qu'une fois, et personne ne pourra vous les montrer de nouveau.",
    ),
    "reference": ("Reference", "Référence"),
    "follow_up_code": ("Follow-up code", "Code de suivi"),
    "codes_use": (
        "With them you can add information later on the follow-up page, or by calling the hotline at "
        "{phone}. Each follow-up gives you a new code; the old one stops working.",
        "Ils vous permettent d'ajouter de l'information plus tard sur la page de suivi, ou en appelant la "
        "Ligne d'urgence au {phone}. Chaque suivi vous donne un nouveau code; l'ancien cesse de fonctionner.",
    ),
    "follow_up_link": ("Add information to a report you made", "Ajouter de l'information à un signalement"),
    "new_report_link": ("Make a new report", "Faire un nouveau signalement"),
    "follow_up_title": ("Add information to your report", "Ajouter de l'information à votre signalement"),
    "follow_up_intro": (
        "Give the reference and the follow-up code you received. After 5 wrong codes, follow-up for a "
        "reference pauses for 15 minutes.",
        "Indiquez la référence et le code de suivi reçus. Après 5 codes erronés, le suivi d'une référence "
        "est suspendu pendant 15 minutes.",
    ),
    "follow_up_narrative": ("What would you like to add?", "Qu'aimeriez-vous ajouter?"),
    "follow_up_submit": ("Send the information", "Envoyer l'information"),
    "follow_up_done_title": ("Your information was added", "Votre information a été ajoutée"),
    "follow_up_done": (
        "Thank you. Your old code no longer works. Write down your new follow-up code now: it is shown "
        "only once.",
        "Merci. Votre ancien code ne fonctionne plus. Notez maintenant votre nouveau code de suivi : il "
        "n'est affiché qu'une fois.",
    ),
    "refused": (
        "The reference or the follow-up code is not valid, or follow-up is paused for this reference.",
        "La référence ou le code de suivi n'est pas valide, ou le suivi est suspendu pour cette référence.",
    ),
    "tip_full": (
        "This report cannot take more information online. To add to it, call the hotline at {phone}, "
        "24 hours a day, and give your reference.",
        "Ce signalement ne peut plus recevoir d'information en ligne. Pour le compléter, appelez la "
        "Ligne d'urgence au {phone}, 24 heures sur 24, en donnant votre référence.",
    ),
    "too_many": (
        "Too many submissions from this connection. Try again later, or call the hotline at {phone}, "
        "24 hours a day.",
        "Trop d'envois depuis cette connexion. Réessayez plus tard, ou appelez la Ligne d'urgence au "
        "{phone}, 24 heures sur 24.",
    ),
    "nothing_to_add": ("Write what you would like to add.", "Écrivez ce que vous aimeriez ajouter."),
    "province_outside_canada": (
        "Choose a province only for a place in Canada.",
        "Choisissez une province seulement pour un lieu au Canada.",
    ),
    "choose_listed": ("Choose one of the listed answers.", "Choisissez l'une des réponses proposées."),
    "error_prefix": ("Error:", "Erreur :"),
}

CHOICES: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "reporter_role": {
        "victim": ("I am the person being exploited", "Je suis la personne exploitée"),
        "family_friend": ("A family member or friend", "Un membre de la famille ou un ami"),
        "community": ("A neighbour or member of the public", "Un voisin ou un membre du public"),
        "service_provider": ("A service provider", "Un fournisseur de services"),
        "professional": (
            "A professional (health, education, other)",
            "Un professionnel (santé, éducation, autre)",
        ),
        "law_enforcement": ("Law enforcement", "Forces de l'ordre"),
        "other": ("Other, or I prefer not to say", "Autre, ou je préfère ne pas le dire"),
    },
    "trafficking_types": {
        "sex": ("Sexual exploitation", "Exploitation sexuelle"),
        "labour": ("Forced labour", "Travail forcé"),
        "domestic_servitude": ("Domestic servitude", "Servitude domestique"),
        "forced_marriage": ("Forced marriage", "Mariage forcé"),
        "organ_removal": ("Organ removal", "Prélèvement d'organes"),
        "other": ("Other, or not sure", "Autre, ou incertain"),
    },
    "province": {
        "AB": ("Alberta", "Alberta"),
        "BC": ("British Columbia", "Colombie-Britannique"),
        "MB": ("Manitoba", "Manitoba"),
        "NB": ("New Brunswick", "Nouveau-Brunswick"),
        "NL": ("Newfoundland and Labrador", "Terre-Neuve-et-Labrador"),
        "NS": ("Nova Scotia", "Nouvelle-Écosse"),
        "NT": ("Northwest Territories", "Territoires du Nord-Ouest"),
        "NU": ("Nunavut", "Nunavut"),
        "ON": ("Ontario", "Ontario"),
        "PE": ("Prince Edward Island", "Île-du-Prince-Édouard"),
        "QC": ("Quebec", "Québec"),
        "SK": ("Saskatchewan", "Saskatchewan"),
        "YT": ("Yukon", "Yukon"),
    },
}


def texts(language: str) -> dict[str, str]:
    """Every text in ``language`` (``en`` or ``fr``)."""
    index = LANGUAGES.index(language)
    return {key: pair[index] for key, pair in TEXTS.items()}


def choices(language: str) -> dict[str, list[tuple[str, str]]]:
    """Each list of choices as (value, label) in ``language``, in the order the form shows them."""
    index = LANGUAGES.index(language)
    return {
        name: [(value, pair[index]) for value, pair in options.items()] for name, options in CHOICES.items()
    }
