"""The demo training catalogue, and volunteers at every stage of it.

The content is data (``MODULES``, ``QUALIFICATIONS``, ``PATHS``); a small
builder turns it into modules, lessons, quizzes, paths and qualifications
through the real services, then plays learners' actions (lessons read,
quizzes passed or failed, in-person attendance) at dates in the past, so the
demo shows qualifications that are valid, about to expire and expired.

Lessons are written for volunteer digital helpers: plain French, practical,
correct at the time of writing (France Travail since 2024, automatic
registration of RSA recipients since 2025, Aidants Connect reserved for
professionals).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from textwrap import dedent

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from volunteer_platform.auth.models import User
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Tenant
from volunteer_platform.training import queries, services
from volunteer_platform.training.models import (
    CompetenceArea,
    Level,
    Module,
    ModuleVersion,
    Path,
    Qualification,
    QuestionKind,
)


@dataclass(frozen=True)
class QuestionSpec:
    prompt: str
    choices: tuple[tuple[str, bool], ...]  # (text, is it right?)
    feedback: str
    multiple: bool = False


@dataclass(frozen=True)
class ModuleSpec:
    key: str
    title: str
    summary: str
    objectives: tuple[str, ...]
    area: CompetenceArea
    level: Level
    minutes: int
    lessons: tuple[tuple[str, str], ...]  # (title, Markdown body)
    questions: tuple[QuestionSpec, ...]
    pass_mark: int = 70
    requires_attendance: bool = False
    qualification: str | None = None  # a key of QUALIFICATIONS
    owner: str | None = None  # a structure's slug; None: the shared catalogue


@dataclass(frozen=True)
class QualificationSpec:
    key: str
    name: str
    description: str
    validity_months: int | None = 24


@dataclass(frozen=True)
class PathSpec:
    key: str
    title: str
    description: str
    modules: tuple[str, ...]
    qualification: str | None = None


def md(text: str) -> str:
    return dedent(text).strip() + "\n"


# --- qualifications and paths -----------------------------------------------------------

QUALIFICATIONS = (
    QualificationSpec(
        "demarches", "Accompagnement aux démarches en ligne",
        "Accompagner une personne dans ses démarches administratives en ligne (sites officiels, "
        "FranceConnect, documents), en respectant ses données.",
    ),
    QualificationSpec(
        "aidant1", "Aidant numérique — niveau 1",
        "Le socle de l'aidant numérique bénévole : posture, messagerie, smartphone, sécurité et "
        "démarches en ligne.",
    ),
    QualificationSpec(
        "emploi", "Accompagnement à la recherche d'emploi",
        "Aider une personne à s'inscrire à France Travail, à rédiger son CV et à répondre à une offre.",
    ),
)

PATHS = (
    PathSpec(
        "aidant1", "Aidant numérique — niveau 1",
        "Le parcours de départ de tout bénévole : la bonne posture d'abord, puis la messagerie, "
        "le smartphone, la sécurité et les démarches en ligne.",
        ("posture", "email", "smartphone", "securite", "demarches"),
        qualification="aidant1",
    ),
    PathSpec(
        "emploi", "Accompagner la recherche d'emploi",
        "Pour aider les personnes en recherche d'emploi : démarches en ligne, inscription à "
        "France Travail et candidature, CV.",
        ("demarches", "france_travail", "cv"),
        qualification="emploi",
    ),
)

DEFAULT_PATHS = {"ccas-bethune": "aidant1"}


# --- modules ----------------------------------------------------------------------------------

MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        key="email",
        title="Créer et utiliser une adresse e-mail",
        summary="Aider une personne à créer sa propre adresse e-mail, à la retrouver, et à lire, "
                "écrire et envoyer un document.",
        objectives=(
            "Expliquer à quoi sert une adresse e-mail personnelle",
            "Accompagner la création d'une adresse et d'un mot de passe solide",
            "Lire, répondre, envoyer une pièce jointe et trouver un message classé en indésirable",
        ),
        area=CompetenceArea.COMMUNICATION,
        level=Level.BEGINNER,
        minutes=60,
        lessons=(
            ("À quoi sert une adresse e-mail ?", md("""
                Presque toutes les démarches demandent une adresse e-mail : la CAF, l'Assurance
                Maladie (ameli), France Travail, les impôts. C'est là qu'arrivent les **codes de
                confirmation**, les **convocations** et les **courriers officiels**.

                ## Une adresse, c'est personnel

                Une adresse ressemble à `prenom.nom@fournisseur.fr`. Chaque personne doit avoir
                **la sienne** :

                - pas celle de l'aidant ;
                - pas celle d'un enfant ou d'un voisin « pour dépanner ».

                Sinon, les codes et les courriers arrivent chez quelqu'un d'autre, et la personne
                perd la main sur ses démarches.

                ## Vérifier d'abord si elle en a déjà une

                Beaucoup de personnes ont une adresse sans le savoir :

                - un téléphone **Android** est presque toujours relié à un compte Google, donc à
                  une adresse Gmail (regardez dans *Paramètres*, rubrique *Comptes* ou *Google*) ;
                - un ancien courrier de la CAF ou des impôts peut indiquer l'adresse utilisée.

                Retrouver une adresse existante vaut mieux qu'en créer une deuxième.
                """)),
            ("Créer l'adresse avec la personne", md("""
                ## 1. Choisir un fournisseur

                Les messageries gratuites les plus courantes sont Gmail, Outlook.com ou
                laposte.net. Choisissez avec la personne, de préférence celle qu'elle connaît
                déjà ou que ses proches utilisent.

                ## 2. Choisir l'identifiant

                Simple et sérieux : `prenom.nom`. S'il est déjà pris, ajoutez un chiffre
                (`prenom.nom62`). Évitez les surnoms : l'adresse servira aussi pour chercher un
                emploi.

                ## 3. Le mot de passe : c'est elle qui le choisit et le tape

                Un bon mot de passe est **long** (au moins 12 caractères). Le plus simple : trois
                ou quatre mots sans lien entre eux, avec un chiffre, par exemple
                `Tartine-Velo-Soleil-62`. Pas de date de naissance ni de prénom.

                Pendant qu'elle le tape, **détournez le regard**. Si elle a besoin de le noter,
                c'est dans un carnet qu'elle garde chez elle, jamais dans vos notes.

                ## 4. Les moyens de récupération

                Ajoutez son **numéro de téléphone portable** : en cas d'oubli du mot de passe, un
                code lui sera envoyé par SMS.

                ## 5. Vérifier ensemble

                Déconnectez-vous, puis demandez-lui de se reconnecter seule. Si elle y arrive,
                c'est gagné.
                """)),
            ("Lire, écrire, joindre un document", md("""
                ## La boîte de réception

                Les messages non lus sont en **gras**. On ouvre un message en appuyant dessus.

                | Bouton | À quoi il sert |
                |---|---|
                | Répondre | répondre à l'expéditeur seulement |
                | Répondre à tous | répondre à tous les destinataires |
                | Transférer | envoyer le message à quelqu'un d'autre |

                ## Écrire un message

                1. *Nouveau message* (ou le bouton avec un crayon).
                2. **À** : l'adresse du destinataire.
                3. **Objet** : quelques mots clairs, par exemple « Attestation de domicile ».
                4. Le texte : bonjour, la demande, merci, son nom.
                5. **Pièce jointe** : l'icône en forme de trombone, puis choisir le fichier.
                6. *Envoyer*. Le message apparaît ensuite dans le dossier **Envoyés**.

                ## Un message attendu n'arrive pas ?

                Regardez dans **Courrier indésirable** (ou *Spam*) : les messages automatiques
                (codes, confirmations) y sont souvent rangés par erreur.

                ## Prudence

                N'ouvrez pas une pièce jointe envoyée par un inconnu. Sur un ordinateur partagé,
                **déconnectez-vous** toujours à la fin.
                """)),
        ),
        questions=(
            QuestionSpec(
                "Une personne n'a pas d'adresse e-mail et vous propose d'utiliser la vôtre pour sa "
                "demande à la CAF. Que faites-vous ?",
                (("J'accepte, c'est plus simple.", False),
                 ("Je l'aide à créer sa propre adresse, dont elle seule connaît le mot de passe.", True),
                 ("Je lui crée une adresse et je garde le mot de passe pour elle.", False)),
                "Une adresse e-mail est personnelle : les codes et courriers de la CAF doivent arriver "
                "chez la personne, pas chez vous, et elle seule doit connaître son mot de passe.",
            ),
            QuestionSpec(
                "Quel mot de passe est le plus sûr ?",
                (("marie1975", False), ("Azerty123", False), ("Tartine-Velo-Soleil-62", True)),
                "Un mot de passe long, fait de plusieurs mots sans lien avec la personne (ni prénom, "
                "ni date de naissance), est à la fois solide et facile à retenir.",
            ),
            QuestionSpec(
                "Un code de confirmation attendu n'arrive pas. Où regarder en premier ?",
                (("Dans le dossier « Courrier indésirable » (ou « Spam »).", True),
                 ("Dans la corbeille.", False),
                 ("Nulle part : il faut créer une nouvelle adresse.", False)),
                "Les messages automatiques sont souvent classés comme indésirables par erreur. "
                "Regardez dans ce dossier avant de conclure qu'ils ne sont pas arrivés.",
            ),
            QuestionSpec(
                "Pour envoyer un CV par e-mail, que faut-il ? (plusieurs réponses possibles)",
                (("L'adresse du destinataire dans le champ « À ».", True),
                 ("Un objet clair, par exemple « Candidature au poste d'agent d'accueil ».", True),
                 ("Le CV en pièce jointe (icône trombone).", True),
                 ("Le mot de passe de la messagerie dans le message.", False)),
                "Il faut un destinataire, un objet clair et la pièce jointe. Un mot de passe ne "
                "s'écrit jamais dans un message.",
                multiple=True,
            ),
        ),
    ),
    ModuleSpec(
        key="demarches",
        title="Les démarches administratives en ligne et FranceConnect",
        summary="Trouver le site officiel, se connecter avec FranceConnect, préparer les documents "
                "et garder une trace de la démarche.",
        objectives=(
            "Distinguer un site officiel d'un site privé payant",
            "Expliquer FranceConnect et s'en servir avec la personne",
            "Préparer les documents numérisés et conserver l'accusé de réception",
        ),
        area=CompetenceArea.COMMUNICATION,
        level=Level.INTERMEDIATE,
        minutes=90,
        qualification="demarches",
        lessons=(
            ("Trouver le bon site officiel", md("""
                ## Les adresses à connaître

                Les sites de l'administration se terminent le plus souvent par **.gouv.fr** :
                `impots.gouv.fr`, `ants.gouv.fr` (carte grise, permis, papiers d'identité),
                `service-public.gouv.fr` (le guide de toutes les démarches). D'autres organismes
                officiels ont leur propre adresse : `ameli.fr`, `caf.fr`, `francetravail.fr`.

                ## Attention aux sites privés payants

                Dans un moteur de recherche, les premiers résultats sont souvent des **annonces**
                (marquées « Sponsorisé »). Certains sites privés font payer des démarches qui
                sont **gratuites** sur le site officiel : acte de naissance, extrait de casier
                judiciaire, changement d'adresse…

                Sur le site officiel, une démarche est gratuite, ou ne coûte que la taxe prévue
                par la loi (par exemple le timbre fiscal d'un passeport).

                **Le bon réflexe** : partir de `service-public.gouv.fr`, ou taper directement
                l'adresse du site officiel.
                """)),
            ("FranceConnect : un seul compte pour de nombreux services", md("""
                ## Le principe

                Sur beaucoup de sites publics, un bouton **« S'identifier avec FranceConnect »**
                permet de se connecter avec un compte que la personne **a déjà**, au lieu d'en
                créer un nouveau. Par exemple :

                - son compte **impots.gouv.fr** (numéro fiscal, sur l'avis d'impôt) ;
                - son compte **ameli.fr** (numéro de sécurité sociale) ;
                - l'**Identité Numérique La Poste**, le compte **MSA** ou l'application
                  **France Identité**.

                ## Pas à pas

                1. Sur le site de la démarche, appuyer sur *S'identifier avec FranceConnect*.
                2. Choisir le compte que la personne connaît (souvent les impôts ou ameli).
                3. Elle tape son identifiant et son mot de passe **de ce compte-là**.
                4. Elle revient connectée sur le site de départ.

                ## FranceConnect+

                Pour les démarches sensibles, certains sites demandent **FranceConnect+** : il
                faut alors une identité numérique vérifiée (Identité Numérique La Poste ou
                France Identité avec la carte d'identité au format carte bancaire).

                ## En cas d'erreur

                Si la connexion échoue, essayez de vous connecter **directement** sur le site du
                compte choisi (par exemple `impots.gouv.fr`) pour vérifier le mot de passe.
                """)),
            ("Préparer les documents et garder une trace", md("""
                ## Avant

                - Lisez la liste des pièces demandées avec la personne.
                - **Numériser** : un smartphone suffit (appareil photo ou fonction « scanner » de
                  certaines applications). Posez la feuille à plat, bien éclairée, cadrée entière.
                - Formats acceptés : souvent **PDF** ou **JPG**, avec une taille maximale
                  (quelques Mo). Nommez les fichiers clairement : `justificatif-domicile.pdf`.

                ## Pendant

                Lisez chaque page à voix haute. La personne répond et tape elle-même ; vous
                expliquez les mots difficiles.

                ## Après

                - Notez le **numéro de dossier**.
                - Enregistrez ou imprimez l'**accusé de réception** ou le récapitulatif, **pour
                  la personne** (sur son téléphone, dans sa messagerie, ou sur papier).
                - **Déconnectez-la** de ses comptes, supprimez les fichiers téléchargés sur
                  l'ordinateur de la structure et videz la corbeille.

                ## Savoir passer la main

                Démarche trop complexe, situation délicate (dettes, litige, santé) : orientez
                vers un espace **France Services** ou un travailleur social.
                """)),
        ),
        questions=(
            QuestionSpec(
                "Comment reconnaître le site officiel pour une demande de carte grise ?",
                (("C'est le premier résultat du moteur de recherche.", False),
                 ("Son adresse se termine par .gouv.fr : c'est ants.gouv.fr.", True),
                 ("Il demande des frais de dossier.", False)),
                "Les premiers résultats sont souvent des annonces de sites privés payants. La carte "
                "grise se demande sur ants.gouv.fr.",
            ),
            QuestionSpec(
                "À quoi sert FranceConnect ?",
                (("À se connecter à de nombreux services publics avec un compte qu'on a déjà "
                  "(impots.gouv.fr, ameli.fr…).", True),
                 ("À créer une adresse e-mail.", False),
                 ("À payer ses impôts en ligne.", False)),
                "FranceConnect évite de créer un compte de plus : on se connecte avec un compte "
                "existant et vérifié, par exemple celui des impôts ou d'ameli.",
            ),
            QuestionSpec(
                "Une demande vient d'être envoyée en ligne. Que faire ensuite ? "
                "(plusieurs réponses possibles)",
                (("Noter le numéro de dossier.", True),
                 ("Enregistrer l'accusé de réception pour la personne.", True),
                 ("Déconnecter la personne de son compte.", True),
                 ("Garder une copie de ses documents sur l'ordinateur de la structure, au cas où.", False)),
                "Le numéro de dossier et l'accusé de réception appartiennent à la personne. Ses "
                "documents ne restent pas sur l'ordinateur de la structure.",
                multiple=True,
            ),
            QuestionSpec(
                "Un site propose d'envoyer un acte de naissance pour 29,90 €. Qu'en pensez-vous ?",
                (("C'est le tarif normal.", False),
                 ("C'est un site privé : la demande est gratuite sur le site officiel.", True),
                 ("C'est plus rapide, cela vaut le coup.", False)),
                "La demande d'acte de naissance est gratuite (service-public.gouv.fr ou la mairie "
                "du lieu de naissance). Les sites qui la font payer ne sont pas officiels.",
            ),
        ),
    ),
    ModuleSpec(
        key="france_travail",
        title="S'inscrire à France Travail et répondre à une offre",
        summary="Préparer et faire l'inscription en ligne, s'actualiser chaque mois, chercher une "
                "offre et envoyer une candidature.",
        objectives=(
            "Préparer les informations et documents de l'inscription",
            "Expliquer l'espace personnel et l'actualisation mensuelle",
            "Aider à trouver une offre et à envoyer une candidature soignée",
        ),
        area=CompetenceArea.INFORMATION,
        level=Level.INTERMEDIATE,
        minutes=90,
        lessons=(
            ("Avant l'inscription", md("""
                Depuis le **1er janvier 2024**, Pôle emploi s'appelle **France Travail**.

                ## Qui doit s'inscrire en ligne ?

                L'inscription se fait en principe sur `francetravail.fr` (« M'inscrire, me
                réinscrire »). Depuis le **1er janvier 2025**, certaines personnes sont
                **inscrites automatiquement** : les demandeurs et bénéficiaires du RSA (et leur
                conjoint) et les jeunes accompagnés par une Mission Locale. Elles reçoivent un
                courrier : inutile de s'inscrire une deuxième fois.

                ## Ce qu'il faut préparer

                - une pièce d'identité ou un titre de séjour ;
                - le numéro de sécurité sociale ;
                - une adresse e-mail **que la personne sait consulter**, et un téléphone ;
                - un RIB, pour le versement d'éventuelles allocations ;
                - les dates et noms des derniers employeurs ;
                - un CV, si elle en a un.

                Le formulaire peut être enregistré en **brouillon** et repris plus tard (pendant
                quelques jours). En cas de difficulté, le **3949** répond aux questions.
                """)),
            ("L'espace personnel et l'actualisation", md("""
                ## Pendant l'inscription

                La personne renseigne sa situation, peut faire sa demande d'allocation, puis
                choisit un **rendez-vous avec un conseiller** (obligatoire pour une première
                inscription). Notez avec elle la date, l'heure et le lieu.

                ## L'espace personnel

                Il se crée en même temps. On s'y connecte avec l'identifiant France Travail et
                un mot de passe, ou avec **FranceConnect**. L'application mobile « France
                Travail » donne accès aux mêmes services.

                ## S'actualiser chaque mois

                **Chaque mois**, qu'elle touche une allocation ou non, la personne doit
                s'actualiser (en général entre le 28 du mois et le 15 du mois suivant) : elle
                déclare si elle a travaillé, suivi une formation, été malade… **Sans
                actualisation, l'inscription s'arrête.**

                Aidez-la à trouver le bouton « M'actualiser », puis à mettre un rappel dans son
                téléphone.
                """)),
            ("Répondre à une offre d'emploi", md("""
                ## Chercher

                Sur `francetravail.fr`, la recherche d'offres se fait par **métier** ou
                **mot-clé** et par **lieu**. Lisez l'offre ensemble : type de contrat (CDI, CDD,
                intérim), horaires, lieu, expérience demandée, et comment postuler.

                ## Postuler par e-mail

                - **Objet** : « Candidature — agent d'entretien (offre n° …) ».
                - **Message court** : bonjour, le poste visé, une ou deux phrases de motivation,
                  la disponibilité, merci, nom et téléphone.
                - **Pièces jointes** en PDF, bien nommées : `CV_Prenom_Nom.pdf`,
                  `Lettre_Prenom_Nom.pdf`.

                ## Garder une trace

                Proposez un petit tableau (papier ou tableur) : date, entreprise, poste, réponse.
                Il sert pour relancer (après une dizaine de jours sans réponse) et pour les
                rendez-vous avec le conseiller.
                """)),
        ),
        questions=(
            QuestionSpec(
                "Depuis le 1er janvier 2024, Pôle emploi s'appelle…",
                (("France Travail", True), ("France Services", False), ("Mission Locale", False)),
                "Pôle emploi est devenu France Travail. France Services est un réseau de guichets "
                "d'accueil ; la Mission Locale accompagne les jeunes de 16 à 25 ans.",
            ),
            QuestionSpec(
                "Que faut-il préparer avant l'inscription ? (plusieurs réponses possibles)",
                (("Une pièce d'identité ou un titre de séjour.", True),
                 ("Le numéro de sécurité sociale.", True),
                 ("Une adresse e-mail que la personne sait consulter.", True),
                 ("Un diplôme, obligatoirement.", False)),
                "Aucun diplôme n'est exigé pour s'inscrire. Il faut l'identité, le numéro de "
                "sécurité sociale et une adresse e-mail que la personne consulte vraiment.",
                multiple=True,
            ),
            QuestionSpec(
                "Une personne inscrite ne touche pas d'allocation. Doit-elle s'actualiser chaque mois ?",
                (("Oui, sinon son inscription s'arrête.", True),
                 ("Non, l'actualisation ne concerne que les personnes indemnisées.", False),
                 ("Seulement si son conseiller le lui demande.", False)),
                "Indemnisée ou non, la personne s'actualise chaque mois pour rester inscrite.",
            ),
            QuestionSpec(
                "Quel nom de fichier choisir pour envoyer un CV ?",
                (("CV_Fatima_Haddad.pdf", True), ("scan0001.jpg", False),
                 ("document final v3 (2).docx", False)),
                "Un nom clair avec le prénom et le nom, au format PDF, aide le recruteur à "
                "retrouver la candidature.",
            ),
        ),
    ),
    ModuleSpec(
        key="cv",
        title="Rédiger un CV",
        summary="Construire avec la personne un CV clair d'une page, qui met en valeur toutes ses "
                "expériences, et l'enregistrer en PDF.",
        objectives=(
            "Connaître les rubriques d'un CV et ce qui n'est pas obligatoire",
            "Aider la personne à traduire ses expériences en compétences",
            "Mettre en page simplement et enregistrer en PDF",
        ),
        area=CompetenceArea.CONTENT_CREATION,
        level=Level.INTERMEDIATE,
        minutes=90,
        lessons=(
            ("Ce qu'un CV doit contenir", md("""
                Un CV tient idéalement sur **une page**. Les rubriques habituelles :

                1. **Coordonnées** : prénom, nom, téléphone, e-mail sérieux, ville.
                2. **Titre** : le poste recherché (« Agent d'entretien », « Aide à domicile »).
                3. **Expériences**, de la plus récente à la plus ancienne : dates, employeur,
                   ville, et ce que la personne faisait, avec des verbes d'action.
                4. **Formations et diplômes**.
                5. **Compétences** : savoir-faire, langues parlées, permis B, logiciels.
                6. **Centres d'intérêt** (facultatif).

                ## Ce qui n'est pas obligatoire

                La **photo**, la **date de naissance**, la **situation familiale** et la
                **nationalité** ne sont pas obligatoires. La loi interdit de choisir un candidat
                sur ces critères : c'est la personne qui décide de les indiquer ou non.

                ## Toutes les expériences comptent

                Bénévolat, stages, missions d'intérim, petits boulots : tout peut montrer des
                compétences.
                """)),
            ("Écrire avec la personne", md("""
                Le CV est **celui de la personne** : c'est elle qui choisit les mots. Votre rôle
                est de poser des questions et de l'aider à mettre en valeur ce qu'elle sait faire.

                ## Des questions qui aident

                - « Racontez-moi une journée dans ce travail. »
                - « Qu'est-ce qu'on vous confiait ? Qu'est-ce que vous faisiez bien ? »
                - « Avez-vous aidé dans une association, un club, une école ? »

                ## Transformer en compétences

                | Ce que la personne dit | Sur le CV |
                |---|---|
                | « Je faisais la caisse au marché » | Encaissement, rendu de monnaie, accueil des clients |
                | « Je m'occupais des goûters à l'école » | Préparation et service de collations pour 30 enfants |

                ## Relire

                Relisez ensemble à voix haute, corrigez l'orthographe (le correcteur du
                traitement de texte aide), et vérifiez les dates et le numéro de téléphone.
                Restez honnête : un CV exact vaut mieux qu'un CV gonflé.
                """)),
            ("Mettre en page et enregistrer en PDF", md("""
                ## Les outils

                - un traitement de texte : Word, ou **LibreOffice Writer** (gratuit), avec un
                  modèle simple ;
                - l'outil de CV de l'espace personnel France Travail ;
                - sur smartphone, une application de traitement de texte.

                ## Une mise en page sobre

                Une police lisible (taille 10 à 12), des titres de rubrique en gras, des marges,
                peu de couleurs. Le recruteur doit trouver l'essentiel en quelques secondes.

                ## Enregistrer en PDF

                Dans le menu **Fichier**, choisissez *Exporter au format PDF* ou *Enregistrer
                sous* puis le type **PDF**. Le PDF garde la même mise en page sur tous les
                appareils.

                Gardez **aussi** la version modifiable (`.docx` ou `.odt`) pour les mises à jour,
                et proposez à la personne de s'envoyer les deux fichiers par e-mail : elle les
                retrouvera partout.
                """)),
        ),
        questions=(
            QuestionSpec(
                "Une photo est-elle obligatoire sur un CV en France ?",
                (("Oui, toujours.", False), ("Non, c'est la personne qui décide.", True),
                 ("Oui, pour les emplois au contact du public.", False)),
                "La photo n'est jamais obligatoire ; la personne choisit de la mettre ou non.",
            ),
            QuestionSpec(
                "Quelles expériences peuvent figurer sur un CV ? (plusieurs réponses possibles)",
                (("Un emploi salarié.", True), ("Une activité bénévole.", True), ("Un stage.", True),
                 ("Aucune : seuls les diplômes comptent.", False)),
                "Toutes les expériences peuvent montrer des compétences, y compris le bénévolat et "
                "les stages.",
                multiple=True,
            ),
            QuestionSpec(
                "Pourquoi envoyer le CV au format PDF ?",
                (("La mise en page reste la même sur tous les appareils.", True),
                 ("C'est obligatoire selon la loi.", False),
                 ("Le fichier devient plus joli.", False)),
                "Un document Word peut s'afficher différemment chez le recruteur ; le PDF, non.",
            ),
            QuestionSpec(
                "Qui choisit les mots du CV ?",
                (("La personne, avec votre aide.", True), ("L'aidant, qui écrit mieux.", False),
                 ("Un site qui génère le CV automatiquement.", False)),
                "C'est le CV de la personne : elle doit pouvoir en parler en entretien. Vous posez "
                "des questions et l'aidez à formuler.",
            ),
        ),
    ),
    ModuleSpec(
        key="smartphone",
        title="Les bases du smartphone",
        summary="Allumer et déverrouiller, se repérer, régler le téléphone pour plus de confort et "
                "installer une application sans risque.",
        objectives=(
            "Distinguer code PIN et code de déverrouillage",
            "Montrer les gestes de base et les réglages utiles",
            "Installer une application depuis le magasin officiel",
        ),
        area=CompetenceArea.PROBLEM_SOLVING,
        level=Level.BEGINNER,
        minutes=60,
        lessons=(
            ("Allumer, déverrouiller, se repérer", md("""
                ## Allumer

                Un **appui long** sur le bouton sur le côté du téléphone l'allume ou l'éteint.

                ## Deux codes différents

                - Le **code PIN** (4 chiffres) protège la **carte SIM**. Il est demandé à
                  l'allumage. Après **3 erreurs**, la carte se bloque : il faut alors le **code
                  PUK** (sur le support de la carte SIM ou auprès de l'opérateur).
                - Le **code de déverrouillage** (ou schéma, ou empreinte) protège l'accès au
                  téléphone lui-même.

                ## Les gestes

                | Geste | Pour quoi faire |
                |---|---|
                | Toucher | ouvrir une application, appuyer sur un bouton |
                | Appui long | afficher plus d'options |
                | Glisser | faire défiler, changer d'écran |
                | Pincer / écarter deux doigts | réduire / agrandir |

                ## Se repérer

                L'**écran d'accueil** regroupe les applications. Glisser du haut de l'écran vers
                le bas affiche les **notifications**. Pour revenir en arrière : la flèche ou le
                geste « retour » sur Android, le lien en haut à gauche sur iPhone.
                """)),
            ("Rendre le téléphone plus confortable", md("""
                Tout se règle dans **Paramètres** (Android) ou **Réglages** (iPhone).

                - **Taille du texte** et **zoom d'affichage** : souvent le premier réglage qui
                  change la vie.
                - **Luminosité** et **volume** de la sonnerie.
                - **Wi-Fi** : à la maison ou dans la structure, il évite de consommer les
                  **données mobiles** du forfait.
                - **Mode avion** : coupe tous les réseaux. Si « plus rien ne marche », vérifiez
                  qu'il n'est pas activé par erreur.
                - **Économie de batterie** : utile pour les téléphones qui se déchargent vite.

                ## Prudence avec l'accessibilité

                Les lecteurs d'écran (TalkBack sur Android, VoiceOver sur iPhone) changent tous
                les gestes. Ne les activez que si la personne en a besoin et que vous savez les
                désactiver.

                Notez avec la personne les réglages faits, pour qu'elle puisse les retrouver.
                """)),
            ("Installer une application sans risque", md("""
                ## Uniquement le magasin officiel

                - **Google Play Store** sur Android ;
                - **App Store** sur iPhone.

                Jamais depuis un lien reçu par SMS ou e-mail.

                ## Vérifier l'éditeur

                Avant d'installer, regardez **qui publie l'application** : l'application ameli
                est publiée par l'Assurance Maladie, celle de France Travail par France Travail.
                Les fausses applications imitent les noms et les logos.

                ## Les autorisations

                Une application demande parfois l'accès à l'appareil photo, aux contacts, à la
                position. Demandez-vous avec la personne : « en a-t-elle vraiment besoin ? ».
                Sinon, refusez.

                ## Gratuit ou payant ?

                « Gratuit » peut cacher des **achats intégrés**. Aucune application publique
                (impôts, CAF, ameli, France Travail) n'est payante.

                ## Les mises à jour

                Acceptez les mises à jour du téléphone et des applications : elles corrigent des
                failles de sécurité.
                """)),
        ),
        questions=(
            QuestionSpec(
                "Quelle est la différence entre le code PIN et le code de déverrouillage ?",
                (("Le code PIN protège la carte SIM ; le code de déverrouillage protège l'accès au "
                  "téléphone.", True),
                 ("C'est la même chose.", False),
                 ("Le code PIN sert à payer en magasin.", False)),
                "Le code PIN est celui de la carte SIM (3 erreurs la bloquent) ; le code de "
                "déverrouillage ouvre le téléphone.",
            ),
            QuestionSpec(
                "Où installer une application ?",
                (("Uniquement depuis le magasin officiel : Google Play Store ou App Store.", True),
                 ("Depuis un lien reçu par SMS.", False),
                 ("Depuis n'importe quel site qui la propose gratuitement.", False)),
                "Les liens reçus par SMS ou trouvés sur des sites peuvent installer de fausses "
                "applications. Seul le magasin officiel du téléphone est sûr.",
            ),
            QuestionSpec(
                "Le forfait de données mobiles est presque épuisé. Comment regarder une vidéo sans "
                "le consommer ?",
                (("Se connecter au Wi-Fi.", True), ("Redémarrer le téléphone.", False),
                 ("Augmenter la luminosité.", False)),
                "Connecté au Wi-Fi, le téléphone n'utilise plus les données du forfait.",
            ),
        ),
    ),
    ModuleSpec(
        key="securite",
        title="Sécurité en ligne : déjouer les arnaques",
        summary="Reconnaître l'hameçonnage et les arnaques courantes (colis, CPF, faux conseiller, "
                "faux sites), protéger ses comptes et réagir si la personne s'est fait piéger.",
        objectives=(
            "Repérer les signes d'un message frauduleux",
            "Connaître les arnaques les plus fréquentes et le bon réflexe pour chacune",
            "Protéger les comptes importants et savoir quoi faire après une fraude",
        ),
        area=CompetenceArea.SAFETY,
        level=Level.BEGINNER,
        minutes=90,
        lessons=(
            ("Reconnaître l'hameçonnage", md("""
                L'**hameçonnage** (ou *phishing*) est un message — e-mail, SMS, appel — qui se fait
                passer pour un organisme connu (ameli, CAF, impôts, banque, La Poste, un
                transporteur) pour voler des informations : mots de passe, numéro de carte
                bancaire, codes reçus par SMS.

                ## Les signes qui doivent alerter

                - l'**urgence** ou la **menace** : « dernier délai », « compte suspendu » ;
                - une offre trop belle : « vous avez droit à un remboursement » ;
                - une **demande de données** : mot de passe, numéro de carte, code reçu par SMS ;
                - une **adresse d'expéditeur** étrange ou un lien vers un site inconnu ;
                - des fautes, une formule de politesse impersonnelle.

                ## La règle d'or

                Aucun organisme sérieux ne demande un mot de passe ou un code bancaire par
                message. **On ne clique pas sur le lien** : on va soi-même sur le site ou dans
                l'application officielle pour vérifier.
                """)),
            ("Les arnaques les plus courantes", md("""
                | Message typique | Le piège | Le bon réflexe |
                |---|---|---|
                | « Votre colis est en attente, réglez 1,99 € » | Un faux site récupère la carte bancaire | Vérifier le suivi sur le site officiel du transporteur |
                | « Vos droits à la formation (CPF) vont être perdus » | Voler l'accès au compte formation | Ne rien donner ; utiliser uniquement moncompteformation.gouv.fr |
                | Appel d'un « conseiller bancaire » pour « annuler une fraude » | Faire valider un paiement par la victime | Raccrocher et rappeler sa banque au numéro habituel |
                | Un site payant pour un acte de naissance | Faire payer une démarche gratuite | Passer par service-public.gouv.fr |
                | « Maman, j'ai changé de numéro, fais-moi un virement » | Se faire passer pour un proche | Appeler le proche à son numéro habituel |

                ## Le compte formation (CPF)

                Pour payer une formation avec le CPF, il faut désormais s'identifier avec
                **FranceConnect+**, ce qui complique la tâche des fraudeurs. Mais ils essaient
                toujours d'obtenir les identifiants par téléphone : on ne les donne à personne.

                ## Le faux conseiller

                Une banque ne demande **jamais** de valider une opération « pour l'annuler », ni
                de communiquer un code reçu par SMS.
                """)),
            ("Protéger ses comptes", md("""
                ## La messagerie d'abord

                La boîte e-mail est la **clé de tous les autres comptes** : c'est là qu'arrivent
                les liens « mot de passe oublié ». Elle mérite le mot de passe le plus solide.

                ## Un mot de passe par compte important

                Si le même mot de passe sert partout, une seule fuite ouvre toutes les portes.
                Des mots de passe longs, différents pour la messagerie, la banque et les comptes
                administratifs. Un **gestionnaire de mots de passe** peut aider les personnes
                à l'aise ; un carnet rangé à la maison convient à d'autres.

                ## La double authentification

                Quand un site la propose, activez-la avec la personne : en plus du mot de passe,
                un code est envoyé par SMS ou affiché dans une application. Un voleur qui
                connaîtrait le mot de passe ne pourrait pas entrer.

                ## Les mises à jour

                Acceptez les mises à jour du téléphone, de l'ordinateur et des applications :
                elles bouchent des failles.
                """)),
            ("Si la personne s'est fait piéger", md("""
                Pas de reproche : les fraudeurs sont des professionnels, et la honte empêche
                d'agir vite. **Agir vite**, justement :

                1. **Carte bancaire** : faire opposition tout de suite, en appelant sa banque (le
                   numéro est au dos de la carte ou dans l'application bancaire).
                2. **Mots de passe** : changer celui du compte concerné, et de la messagerie.
                3. **Garder les preuves** : captures d'écran du message, du site, des paiements.
                4. **Signaler** :
                   - un SMS frauduleux : le transférer au **33700** (gratuit) ;
                   - un paiement frauduleux par carte : la plateforme **Perceval**, sur
                     service-public.gouv.fr ;
                   - pour être conseillé : **cybermalveillance.gouv.fr**.
                5. **Porter plainte** au commissariat ou à la gendarmerie.

                Si la situation est lourde (grosse somme, détresse), orientez vers un travailleur
                social.
                """)),
        ),
        questions=(
            QuestionSpec(
                "SMS : « Votre colis n'a pas pu être livré. Réglez 1,99 € de frais ici : lien ». "
                "Que conseiller ?",
                (("Ne pas cliquer, et vérifier sur le site officiel du transporteur.", True),
                 ("Payer, ce n'est pas cher.", False),
                 ("Répondre STOP.", False)),
                "C'est une arnaque classique : le faux site récupère la carte bancaire. On vérifie "
                "le suivi du colis sur le site officiel, sans passer par le lien.",
            ),
            QuestionSpec(
                "Quels signes doivent alerter dans un message ? (plusieurs réponses possibles)",
                (("Une urgence ou une menace : « dernier délai », « compte bloqué ».", True),
                 ("Une demande de code bancaire ou de mot de passe.", True),
                 ("Une adresse d'expéditeur étrange.", True),
                 ("Le message est écrit en français.", False)),
                "L'urgence, la demande de données confidentielles et une adresse étrange sont les "
                "signes typiques de l'hameçonnage.",
                multiple=True,
            ),
            QuestionSpec(
                "Un « conseiller bancaire » appelle et demande de valider une opération dans "
                "l'application « pour l'annuler ». Que conseiller ?",
                (("Raccrocher et rappeler sa banque au numéro habituel.", True),
                 ("Valider, puisque c'est la banque.", False),
                 ("Lui donner le code reçu par SMS.", False)),
                "Valider une opération, c'est payer. Une banque ne demande jamais cela : on raccroche "
                "et on rappelle soi-même le numéro habituel.",
            ),
            QuestionSpec(
                "À quel numéro transférer un SMS frauduleux ?",
                (("Au 33700.", True), ("Au 17.", False), ("À l'expéditeur.", False)),
                "Le 33700 est le numéro gratuit de signalement des SMS et appels indésirables.",
            ),
            QuestionSpec(
                "Quel compte protéger en premier avec un mot de passe unique et solide ?",
                (("La messagerie e-mail : elle permet de changer les mots de passe des autres "
                  "comptes.", True),
                 ("Le compte d'un jeu.", False),
                 ("Aucun : le même mot de passe partout est plus simple.", False)),
                "Qui contrôle la messagerie peut réinitialiser tous les autres comptes : elle passe "
                "en premier.",
            ),
        ),
    ),
    ModuleSpec(
        key="posture",
        title="La posture de l'aidant numérique",
        summary="Faire avec la personne et non à sa place, demander son accord, protéger ses "
                "données, connaître ses limites et orienter. Une séance en présentiel (mises en "
                "situation) complète le module.",
        objectives=(
            "Accompagner vers l'autonomie : faire avec, pas à la place",
            "Demander le consentement et respecter la confidentialité",
            "Savoir ce qu'un bénévole ne fait pas, et vers qui orienter (dont Aidants Connect)",
        ),
        area=CompetenceArea.PROBLEM_SOLVING,
        level=Level.BEGINNER,
        minutes=120,
        requires_attendance=True,
        lessons=(
            ("Faire avec, pas à la place", md("""
                Le but d'un accompagnement est que la personne **sache faire** — ou au moins
                comprenne ce qui a été fait pour elle.

                ## Concrètement

                - **Ses mains sur le clavier**, la souris ou son téléphone ; les vôtres restent
                  libres. Montrez sur votre propre appareil si besoin.
                - **Une étape à la fois.** Laissez le temps de lire, de chercher, de se tromper.
                - **Des mots simples** : « le bouton bleu en bas à droite » plutôt que « validez
                  le formulaire ».
                - **Faites reformuler** : « Pouvez-vous me redire comment on fait ? »
                - **Valorisez** chaque réussite. Beaucoup de personnes se sentent « nulles » en
                  informatique ; elles ne le sont pas.

                ## Quand l'autonomie n'est pas possible

                Certaines personnes ne pourront pas, ou pas tout de suite, faire seules une
                démarche (santé, langue, vue, urgence). Faire **à leur place** engage alors une
                responsabilité : voir la leçon « Connaître ses limites et orienter ».
                """)),
            ("Consentement et confidentialité", md("""
                ## Demander avant d'agir

                Avant de regarder l'écran, de toucher le téléphone ou de lire un document :
                **demandez**. Expliquez ce que vous allez faire et pourquoi. La personne peut
                refuser ou arrêter à tout moment.

                ## Ce que vous voyez reste secret

                Revenus, santé, famille, dettes : ce que vous apprenez pendant un
                accompagnement **ne se raconte pas**, même sans nom, si la personne peut être
                reconnue.

                ## Les données personnelles

                - La personne **tape elle-même** ses mots de passe ; **détournez le regard**.
                - Ne notez **jamais** ses identifiants dans vos affaires, même « pour la
                  prochaine fois ».
                - Ne photographiez pas ses documents avec **votre** téléphone ; utilisez le
                  matériel de la structure ou le sien.
                - À la fin : **déconnexion** de tous ses comptes, fermeture du navigateur,
                  suppression des fichiers téléchargés et de la corbeille.

                Ses données lui appartiennent (c'est aussi ce que dit le RGPD) : vous n'en
                gardez rien.
                """)),
            ("Connaître ses limites et orienter", md("""
                ## Ce qu'un bénévole ne fait pas

                - signer ou valider une démarche **au nom** de la personne ;
                - utiliser seul ses identifiants, même avec son accord ;
                - donner un avis juridique, médical ou financier.

                ## Aidants Connect

                **Aidants Connect** est un service de l'État qui permet à des **aidants
                professionnels habilités** (salariés d'une structure habilitée et formés) de
                faire une démarche en ligne **à la place** d'une personne, en toute légalité.
                La personne signe un **mandat** : il liste les démarches concernées et a une
                durée limitée (un an au plus) ; elle s'identifie avec FranceConnect.

                **Les bénévoles ne peuvent pas être habilités.** Si une personne a besoin qu'on
                fasse à sa place, orientez-la vers un professionnel habilité : travailleur social
                du CCAS, agent d'un espace France Services…

                ## Orienter, c'est aider

                Situation complexe, détresse, dettes, violence : passez le relais au
                coordinateur ou à un travailleur social. Connaître le réseau local (France
                Services, conseillers numériques, Mission Locale, accueils de la CAF et de la
                CPAM) fait partie du rôle.
                """)),
        ),
        questions=(
            QuestionSpec(
                "Une personne vous dit : « Faites-le, vous irez plus vite. » Quelle est la meilleure "
                "réponse ?",
                (("Je propose de le faire ensemble : elle tape, je la guide pas à pas.", True),
                 ("Je prends le clavier et je fais tout.", False),
                 ("Je refuse de l'aider.", False)),
                "Faire avec, pas à la place : la personne garde la main et apprend. Vous la guidez "
                "à son rythme.",
            ),
            QuestionSpec(
                "La personne doit taper son mot de passe. Que faites-vous ?",
                (("Je détourne le regard pendant qu'elle le tape.", True),
                 ("Je le note dans mon carnet pour la prochaine fois.", False),
                 ("Je le tape moi-même pour aller plus vite.", False)),
                "Le mot de passe est à elle seule : vous ne le voyez pas et ne le gardez pas.",
            ),
            QuestionSpec(
                "Un bénévole peut-il utiliser Aidants Connect pour faire une démarche à la place "
                "d'une personne ?",
                (("Non : Aidants Connect est réservé aux aidants professionnels habilités ; "
                  "j'oriente vers eux.", True),
                 ("Oui, si la personne est d'accord.", False),
                 ("Oui, après une formation en ligne.", False)),
                "Aidants Connect n'est ouvert qu'aux professionnels salariés d'une structure "
                "habilitée. Un bénévole oriente vers eux.",
            ),
            QuestionSpec(
                "À la fin d'un accompagnement sur l'ordinateur de la structure, que faire ? "
                "(plusieurs réponses possibles)",
                (("Déconnecter la personne de tous ses comptes.", True),
                 ("Supprimer les documents téléchargés.", True),
                 ("Fermer le navigateur.", True),
                 ("Garder ses documents au cas où elle reviendrait.", False)),
                "Rien de la personne ne doit rester sur un ordinateur partagé : déconnexion, "
                "suppression des fichiers, navigateur fermé.",
                multiple=True,
            ),
        ),
    ),
    ModuleSpec(
        key="video",
        title="Appels vidéo : garder le lien",
        summary="Choisir une application, passer et recevoir un appel vidéo, réussir l'appel et "
                "éviter les arnaques aux faux proches.",
        objectives=(
            "Choisir l'application adaptée avec la personne",
            "Passer, recevoir et régler un appel vidéo",
            "Donner les conseils de confort et de prudence",
        ),
        area=CompetenceArea.COMMUNICATION,
        level=Level.BEGINNER,
        minutes=60,
        lessons=(
            ("Choisir l'application", md("""
                Un appel vidéo permet de **voir ses proches**, de rompre l'isolement, mais aussi
                de faire une **téléconsultation** médicale ou un **entretien d'embauche** à
                distance.

                ## Les applications courantes

                | Application | Bon à savoir |
                |---|---|
                | WhatsApp | très répandue ; fonctionne avec le numéro de téléphone |
                | FaceTime | entre appareils Apple (iPhone, iPad) |
                | Google Meet | fonctionne avec un lien, même sans installer d'application sur ordinateur |
                | Messenger | pour les personnes qui utilisent Facebook |

                **La meilleure application est celle que la famille utilise déjà.**

                ## Ce qu'il faut

                Un appareil avec caméra et micro, et une connexion Internet — de préférence le
                **Wi-Fi**, car la vidéo consomme beaucoup de données mobiles.
                """)),
            ("Passer et recevoir un appel vidéo", md("""
                ## Passer un appel (exemple : WhatsApp)

                1. Ouvrir la conversation avec la personne à appeler.
                2. Appuyer sur l'icône **caméra**.
                3. Attendre qu'elle décroche.

                ## Répondre

                Appuyer sur le bouton **vert** (ou le faire glisser). Le bouton **rouge**
                raccroche.

                ## Pendant l'appel

                - le **micro** barré coupe le son de votre côté ;
                - la **caméra** barrée coupe l'image ;
                - la flèche tournante passe à la caméra de l'autre côté du téléphone.

                ## Rejoindre avec un lien

                Pour une téléconsultation ou un entretien, on reçoit souvent un **lien** : on
                appuie dessus à l'heure prévue et on **autorise** l'accès à la caméra et au micro.

                ## S'entraîner

                Faites un appel d'essai avec le **téléphone de la structure**, plutôt qu'avec
                votre numéro personnel.
                """)),
            ("Un appel réussi et sans risque", md("""
                ## Le confort

                - Poser le téléphone sur un **support stable**, caméra à hauteur des yeux.
                - La lumière **face au visage** (une fenêtre, une lampe), jamais dans le dos.
                - Un endroit calme ; des écouteurs si l'entourage est bruyant.
                - La batterie chargée, ou le chargeur branché.

                ## La prudence

                - N'accepter les appels vidéo que des **contacts connus**.
                - Attention aux messages « **Maman, j'ai changé de numéro** » suivis d'une
                  demande d'argent urgente : appelez le proche à son **numéro habituel** avant
                  toute chose.
                - Ne jamais envoyer d'argent ni de code sur la seule foi d'un message.
                """)),
        ),
        questions=(
            QuestionSpec(
                "Quelle application choisir pour appeler les petits-enfants ?",
                (("Celle que la famille utilise déjà.", True), ("La plus récente.", False),
                 ("Une application payante, plus sûre.", False)),
                "L'important est d'être sur la même application que ses proches.",
            ),
            QuestionSpec(
                "L'image est sombre pendant l'appel. Que conseiller ?",
                (("Se placer face à une fenêtre ou à une lampe.", True),
                 ("Mettre la lumière derrière soi.", False),
                 ("Couper la caméra.", False)),
                "La lumière doit éclairer le visage : face à la source de lumière, pas dos à elle.",
            ),
            QuestionSpec(
                "Un numéro inconnu écrit : « Maman, j'ai changé de numéro, peux-tu me faire un "
                "virement urgent ? ». Que faire ?",
                (("Appeler l'enfant à son numéro habituel pour vérifier.", True),
                 ("Faire le virement, c'est urgent.", False),
                 ("Répondre en envoyant ses coordonnées bancaires.", False)),
                "C'est une arnaque fréquente. On vérifie toujours en appelant le proche à son "
                "numéro habituel.",
            ),
        ),
    ),
    ModuleSpec(
        key="bethune_permanence",
        owner="ccas-bethune",
        title="Les permanences numériques du CCAS de Béthune",
        summary="Comment se déroule une permanence au CCAS, qui fait quoi, et vers qui orienter.",
        objectives=(
            "Connaître le déroulé d'une permanence",
            "Savoir à qui s'adresser au CCAS",
        ),
        area=CompetenceArea.COMMUNICATION,
        level=Level.BEGINNER,
        minutes=45,
        lessons=(
            ("Le déroulé d'une permanence", md("""
                Les permanences ont lieu à l'**Espace solidarité — centre** et à l'**antenne du
                Mont-Liébaut**.

                1. **Arrivez 15 minutes avant** : allumez les postes, vérifiez la connexion et
                   l'imprimante.
                2. **Accueillez** : présentez-vous, demandez ce qui amène la personne, estimez
                   le temps nécessaire. Une démarche à la fois.
                3. **Accompagnez** en suivant la posture de l'aidant : faire avec, pas à la place.
                4. **Terminez** : déconnexion, suppression des fichiers, poste prêt pour la
                   personne suivante.
                5. **Remplissez la fiche de passage** : type de démarche et durée, **sans le nom
                   de la personne**. Elle sert aux statistiques du CCAS.
                """)),
            ("Qui fait quoi au CCAS", md("""
                - **La coordinatrice** organise le planning des permanences et répond à vos
                  questions. Prévenez-la de toute absence ou de tout problème de matériel.
                - **Le formateur** anime les formations et les séances en présentiel.
                - **Les travailleurs sociaux du CCAS** prennent le relais pour les situations
                  complexes : aides financières, dettes, logement, détresse. Ce sont aussi eux
                  qui peuvent, en tant que professionnels, faire une démarche à la place d'une
                  personne avec Aidants Connect.

                En cas de doute, **demandez** : personne ne vous reprochera d'orienter.
                """)),
        ),
        questions=(
            QuestionSpec(
                "Que note-t-on sur la fiche de passage ?",
                (("Le type de démarche et la durée, sans le nom de la personne.", True),
                 ("Le nom et le numéro de téléphone de la personne.", False),
                 ("Ses identifiants, pour gagner du temps la prochaine fois.", False)),
                "La fiche sert aux statistiques : aucune donnée qui permette de reconnaître la "
                "personne.",
            ),
            QuestionSpec(
                "Une personne a besoin d'une aide financière d'urgence. Vers qui l'orienter ?",
                (("Vers un travailleur social du CCAS.", True),
                 ("Je fais la demande à sa place.", False),
                 ("Je lui dis de revenir plus tard.", False)),
                "Les aides financières relèvent des travailleurs sociaux : orientez sans attendre.",
            ),
            QuestionSpec(
                "Un ordinateur ne démarre plus pendant la permanence. Que faire ?",
                (("Prévenir la coordinatrice et utiliser un autre poste.", True),
                 ("L'ouvrir pour essayer de le réparer.", False),
                 ("L'emporter chez moi pour le réparer.", False)),
                "Le matériel est géré par le CCAS : signalez le problème et continuez sur un autre "
                "poste.",
            ),
        ),
    ),
)


# --- building the catalogue -------------------------------------------------------------------


@dataclass
class Catalogue:
    modules: dict[str, Module] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    qualifications: dict[str, Qualification] = field(default_factory=dict)


def build_catalogue(tenants: dict[str, Tenant], *, now: datetime) -> Catalogue:
    """Create and publish everything in MODULES, QUALIFICATIONS and PATHS."""
    catalogue = Catalogue()
    for spec in QUALIFICATIONS:
        catalogue.qualifications[spec.key] = services.create_qualification(
            None, name=spec.name, description=spec.description, validity_months=spec.validity_months, now=now,
        )
    for spec in MODULES:
        catalogue.modules[spec.key] = _build_module(spec, tenants, catalogue, now=now)
    for spec in PATHS:
        qualification = catalogue.qualifications[spec.qualification] if spec.qualification else None
        catalogue.paths[spec.key] = services.create_path(
            None, title=spec.title, description=spec.description,
            module_ids=[catalogue.modules[key].id for key in spec.modules],
            qualification_id=qualification.id if qualification else None, now=now, publish_now=True,
        )
    for slug, path_key in DEFAULT_PATHS.items():
        services.set_default_path(tenants[slug], catalogue.paths[path_key])
    return catalogue


def _build_module(spec: ModuleSpec, tenants: dict[str, Tenant], catalogue: Catalogue, *, now: datetime) -> Module:
    owner = tenants[spec.owner] if spec.owner else None
    qualification = catalogue.qualifications[spec.qualification] if spec.qualification else None
    module = services.create_module(
        owner,
        services.VersionFields(
            title=spec.title, competence_area=spec.area, level=spec.level, summary=spec.summary,
            objectives="\n".join(spec.objectives), duration_minutes=spec.minutes, pass_mark=spec.pass_mark,
            requires_attendance=spec.requires_attendance,
            qualification_id=qualification.id if qualification else None,
        ),
        now=now,
    )
    version = module.versions[0]
    for title, body in spec.lessons:
        services.add_lesson(version, owner, title=title, body=body)
    for question in spec.questions:
        services.add_question(
            version, owner, prompt=question.prompt,
            kind=QuestionKind.MULTIPLE if question.multiple else QuestionKind.SINGLE,
            choices=list(question.choices), feedback=question.feedback,
        )
    services.publish(module, owner, now=now)
    return module


# --- learners at various stages ---------------------------------------------------------------


class Learners:
    """Plays what volunteers did, through the learning services, at given past dates."""

    def __init__(self, tenants: dict[str, Tenant], catalogue: Catalogue) -> None:
        self.tenants = tenants
        self.catalogue = catalogue

    def user(self, email: str) -> User:
        return db.session.scalars(select(User).where(User.email == email)).one()

    def person(self, slug: str, local_part: str) -> User:
        return self.user(f"{local_part}@{slug}.example.org")

    def version(self, module_key: str) -> ModuleVersion:
        version = queries.latest_published_version(self.catalogue.modules[module_key])
        assert version is not None
        return version

    def assign_path(self, slug: str, local_parts: list[str], path_key: str, *, at: datetime,
                    due_in_days: int | None = None) -> None:
        services.assign(
            self.tenants[slug], [self.person(slug, p) for p in local_parts], path=self.catalogue.paths[path_key],
            due_on=(at + timedelta(days=due_in_days)).date() if due_in_days else None,
            assigned_by=self.person(slug, "coordination"), now=at,
        )

    def assign_module(self, slug: str, local_parts: list[str], module_key: str, *, at: datetime,
                      due_in_days: int | None = None) -> None:
        services.assign(
            self.tenants[slug], [self.person(slug, p) for p in local_parts],
            module=self.catalogue.modules[module_key],
            due_on=(at + timedelta(days=due_in_days)).date() if due_in_days else None,
            assigned_by=self.person(slug, "coordination"), now=at,
        )

    def read(self, user: User, slug: str, module_key: str, count: int, *, at: datetime) -> None:
        """Read the first ``count`` lessons, a quarter of an hour apart, the last at ``at``."""
        lessons = self.version(module_key).lessons[:count]
        for index, lesson in enumerate(lessons):
            moment = at - timedelta(minutes=15 * (len(lessons) - 1 - index))
            services.mark_lesson_read(user, lesson, self.tenants[slug], now=moment)

    def quiz(self, user: User, slug: str, module_key: str, *, at: datetime, right: bool = True) -> None:
        version = self.version(module_key)
        answers = {
            q.id: [c.id for c in q.choices if c.is_correct] if right
            else [next(c.id for c in q.choices if not c.is_correct)]
            for q in version.questions
        }
        services.submit_quiz(user, version, self.tenants[slug], answers, now=at)

    def attend(self, user: User, slug: str, module_key: str, *, at: datetime) -> None:
        services.record_attendance(
            self.tenants[slug], user, self.catalogue.modules[module_key], attended_on=at.date(),
            recorded_by=self.person(slug, "formation"), now=at,
        )

    def complete(self, user: User, slug: str, module_key: str, *, at: datetime) -> None:
        """Everything the module asks, finished at ``at``."""
        version = self.version(module_key)
        if version.requires_attendance:
            self.attend(user, slug, module_key, at=at - timedelta(days=2))
        self.read(user, slug, module_key, len(version.lessons), at=at - timedelta(hours=1))
        self.quiz(user, slug, module_key, at=at)

    def complete_modules(self, user: User, slug: str, module_keys: tuple[str, ...] | list[str], *,
                         finished_at: datetime, every: timedelta = timedelta(days=7)) -> None:
        """Complete modules in order, one every ``every``, the last at ``finished_at``."""
        for index, key in enumerate(module_keys):
            self.complete(user, slug, key, at=finished_at - every * (len(module_keys) - 1 - index))

    def path_modules(self, path_key: str) -> tuple[str, ...]:
        return next(spec.modules for spec in PATHS if spec.key == path_key)


def play_learners(tenants: dict[str, Tenant], catalogue: Catalogue, supervisor: User, *, now: datetime) -> None:
    """Volunteers at various stages: qualified long ago (expired), about to
    expire, recently qualified, in progress, failed a quiz, just assigned."""
    demo = Learners(tenants, catalogue)
    aidant1 = demo.path_modules("aidant1")
    emploi = demo.path_modules("emploi")

    def ago(**delta: int) -> datetime:
        return now - relativedelta(**delta)

    # CCAS de Béthune: everyone follows the default path "Aidant numérique — niveau 1".
    slug = "ccas-bethune"
    volunteers = ["benevole1", "benevole2", "benevole3", "benevole4", "benevole5"]
    demo.assign_path(slug, volunteers[:2], "aidant1", at=ago(months=28))
    demo.assign_path(slug, ["formation"], "aidant1", at=ago(months=8))
    demo.assign_path(slug, ["formation"], "emploi", at=ago(months=8))
    demo.assign_path(slug, volunteers[2:], "aidant1", at=ago(weeks=5), due_in_days=90)
    # Sophie: qualified 23 and a half months ago — her qualifications expire within the month.
    demo.complete_modules(demo.person(slug, "benevole1"), slug, aidant1, finished_at=ago(months=23, days=15))
    # Karim: qualified 26 months ago and never renewed — expired.
    demo.complete_modules(demo.person(slug, "benevole2"), slug, aidant1, finished_at=ago(months=26))
    # Monique: posture and e-mail done; failed the smartphone quiz once, two days ago.
    monique = demo.person(slug, "benevole3")
    demo.complete_modules(monique, slug, aidant1[:2], finished_at=ago(weeks=2))
    demo.read(monique, slug, "smartphone", 3, at=ago(days=2, hours=1))
    demo.quiz(monique, slug, "smartphone", at=ago(days=2), right=False)
    # Thomas: has just started reading the first module (the in-person session is still to come).
    demo.read(demo.person(slug, "benevole4"), slug, aidant1[0], 1, at=ago(days=5))
    # Aïcha: not started her path yet, but did the video-call module and the CCAS's own module.
    aicha = demo.person(slug, "benevole5")
    demo.assign_module(slug, ["benevole5"], "bethune_permanence", at=ago(weeks=6), due_in_days=30)
    demo.complete(aicha, slug, "video", at=ago(months=1))
    demo.complete(aicha, slug, "bethune_permanence", at=ago(weeks=3))
    # The trainer: both paths, six months ago.
    trainer = demo.person(slug, "formation")
    demo.complete_modules(trainer, slug, aidant1, finished_at=ago(months=7))
    demo.complete_modules(trainer, slug, emploi[1:], finished_at=ago(months=6))
    # The volunteer of two structures: halfway in Béthune.
    multi = demo.user("benevole-multi@demo.example.org")
    services.assign(tenants[slug], [multi], path=catalogue.paths["aidant1"],
                    assigned_by=demo.person(slug, "coordination"), now=ago(months=3))
    demo.complete_modules(multi, slug, aidant1[:2], finished_at=ago(months=2))

    # Point Passerelle de Lens: the job-search path.
    slug = "passerelle-lens"
    demo.assign_path(slug, ["benevole1", "benevole2", "benevole3"], "emploi", at=ago(months=25))
    demo.assign_path(slug, ["benevole4", "benevole5"], "emploi", at=ago(weeks=2), due_in_days=60)
    services.assign(tenants[slug], [multi], path=catalogue.paths["emploi"],
                    assigned_by=demo.person(slug, "coordination"), now=ago(weeks=2))
    # Lucie: the whole path three months ago.
    demo.complete_modules(demo.person(slug, "benevole1"), slug, emploi, finished_at=ago(months=3))
    # Olivier: online procedures done last month; reading the France Travail module.
    olivier = demo.person(slug, "benevole2")
    demo.complete(olivier, slug, "demarches", at=ago(months=1))
    demo.read(olivier, slug, "france_travail", 1, at=ago(days=3))
    # Fatima: online procedures 23 months and 20 days ago — expires in about ten days.
    demo.complete(demo.person(slug, "benevole3"), slug, "demarches", at=ago(months=23, days=20))
    # Inès: her qualification was withdrawn (attributed by mistake); the attestation with it.
    ines = demo.person(slug, "benevole5")
    demo.complete(ines, slug, "demarches", at=ago(days=10))
    award = next(a for a in queries.awards_of(ines) if a.withdrawn_at is None)
    services.withdraw_award(award, reason="Attribuée par erreur : le quiz a été passé sur le compte d'une autre "
                                          "personne.", now=ago(days=8))

    # Mairie de Roubaix: the first path, with a due date; the trainer trained elsewhere.
    slug = "mairie-roubaix"
    demo.assign_path(slug, ["benevole1", "benevole2", "benevole3"], "aidant1", at=ago(weeks=4), due_in_days=60)
    demo.complete_modules(demo.person(slug, "benevole1"), slug, aidant1[:2], finished_at=ago(days=6))
    demo.attend(demo.person(slug, "benevole2"), slug, aidant1[0], at=ago(days=9))
    demo.read(demo.person(slug, "benevole2"), slug, aidant1[0], 2, at=ago(days=1))
    services.record_external_qualification(
        tenants[slug], demo.person(slug, "formation"), catalogue.qualifications["aidant1"],
        obtained_on=ago(months=4), note="Formation « Aidant numérique » suivie auprès du réseau régional de "
                                        "médiation numérique ; attestation vérifiée par l'association.",
        recorded_by=supervisor, now=ago(months=4),
    )


def seed_training_demo(tenants: dict[str, Tenant], supervisor: User, *, now: datetime) -> None:
    """Add the training catalogue and learners' progress to the demo data.

    The catalogue is dated 30 months back, so that volunteers can have
    completed it long enough ago for their qualifications to have expired.
    """
    catalogue = build_catalogue(tenants, now=now - relativedelta(months=30))
    play_learners(tenants, catalogue, supervisor, now=now)
    db.session.flush()
