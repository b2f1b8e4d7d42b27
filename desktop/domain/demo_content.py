"""What the demo programme's research circle says and does: plain, clearly fictional data, no I/O.

The circle is modelled on a virtual international research group: lead mentors, mentors (postdocs, residents),
peer mentors (final-year students) and students from a dozen countries, two research projects at different
stages, and a discussion in several of the interface's languages. People are named by their index into
``demo.people()`` (mentors 0-35, students 36-47); ``ME`` stands for the newcomer who joins the demo. Times are
days before the moment the newcomer joins (negative: in the future), so the demo always looks current.
"""

from __future__ import annotations

from desktop.domain import project_state

ME = -1  # the newcomer

CIRCLE_TITLE = "Global Child and Surgical Health Research Group (demo)"
CIRCLE_ABOUT = (
    "Fictional demo circle. A virtual research group across twelve countries: lead mentors, mentors (postdocs and "
    "residents), peer mentors and students meet here, run journal clubs and work on research projects together."
)
CIRCLE_DAYS = 400  # the circle began this many days before the newcomer joins
LEADS = (0, 1, 10)
MENTORS = (2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 15, 20, 21, 22)
PEERS = (37, 39, 43, 45)
STUDENTS = (36, 38, 40, 41, 42, 44, 46, 47, ME)


def circle_roles() -> dict[int, str]:
    """Person index → role in the research circle (about 30 people on four levels)."""
    roles = {i: "lead" for i in LEADS} | {i: "mentor" for i in MENTORS} | {i: "peer" for i in PEERS}
    return roles | {i: "member" for i in STUDENTS}


# A second, listed circle the newcomer is not in: found under "Find circles" (one per demo server).
PEER_CIRCLE_TITLE = "Final-year peer mentors (demo)"
PEER_CIRCLE_ABOUT = (
    "Fictional demo circle. Final-year students who offer peer mentoring compare notes here, with two lead "
    "mentors. Students in their last two years can ask to join."
)
PEER_CIRCLE = {1: "lead", 13: "lead", 25: "mentor", 37: "peer", 39: "peer", 43: "peer", 45: "peer", 47: "peer"}


ANNOUNCEMENT = (
    1,  # author
    3.0,  # days ago
    "Abstract deadline: the regional congress closes submissions in three weeks",
    "The regional student research congress accepts abstracts until the end of the month. Every project team "
    "should have a 250-word draft in its project files by next Friday; the lead mentors will review all of them "
    "in one sitting. (Fictional demo announcement.)",
)

# Topics: (key, author, days ago, title, text, replies); a reply is (key, parent key or None for the topic,
# author, hours after the topic, text). Replies to replies make the threads.
TOPICS = (
    (
        "welcome",
        0,
        20.0,
        "Welcome! Introduce yourself",
        "Welcome to the research group. Tell us where you study or work, what you would like to research, and "
        "which language you are most at ease in: we write in whichever we like and help each other translate.",
        (
            ("w1", None, 36, 2, "Hello from Enugu! Fourth-year student, curious about neonatal sepsis."),
            ("w2", None, 9, 3, "Bonjour à tous, épidémiologiste à Lyon. Je peux aider pour les statistiques."),
            ("w3", "w2", 43, 5, "Merci ! J'aurai sûrement des questions sur la taille d'échantillon."),
            ("w4", None, 44, 9, "¡Hola! Estudiante en Arequipa, me interesa la salud materna."),
            ("w5", "w4", 3, 11, "Bienvenida, Priya. Tenemos un proyecto sobre hemorragia posparto en Recife."),
            ("w6", None, 7, 14, "مرحبا بالجميع، أنا طبيب أعصاب في الإسكندرية. يسعدني الإرشاد في كتابة الأبحاث."),
            ("w7", "w6", 41, 16, "شكرا دكتور! أنا طالب في بالتيمور وأتحدث العربية أيضا."),
            ("w8", None, 39, 20, "Olá! Sou mentora de pares no Recife, podem me perguntar sobre o primeiro artigo."),
            ("w9", None, 46, 30, "Hi all, Sylhet here. Interested in surgical site infections."),
        ),
    ),
    (
        "sample-size",
        12,
        9.0,
        "How many charts do we need for the sepsis audit?",
        "We have about 1,400 admissions a year across the four hospitals. Do we review them all, or sample? "
        "I would like a number we can defend to the ethics committee.",
        (
            ("s1", None, 9, 4, "Sample. With a 20% expected prevalence and ±4% precision, about 385 charts."),
            ("s2", "s1", 36, 6, "Should the sample be split equally between the hospitals?"),
            ("s3", "s2", 9, 8, "Proportional to admissions is simpler to explain, and we can weight later."),
            ("s4", "s3", 12, 20, "Agreed. Decision logged in the project: 400 charts, proportional."),
            ("s5", None, 37, 26, "Peer tip: pilot the extraction form on 10 charts first, it saves weeks."),
        ),
    ),
    (
        "abstract",
        45,
        6.0,
        "Écrire un premier abstract : vos conseils ?",
        "Je prépare mon premier abstract pour le congrès. Comment tenir en 250 mots sans perdre l'essentiel ?",
        (
            ("a1", None, 11, 3, "Une phrase par partie : contexte, objectif, méthode, résultats, conclusion."),
            ("a2", "a1", 47, 5, "Et les chiffres clés dans les résultats, pas dans l'introduction."),
            ("a3", None, 21, 18, "Envoyez vos brouillons dans le fil : je relis le dimanche."),
            ("a4", "a3", 45, 22, "Merci beaucoup ! Je le poste demain."),
        ),
    ),
    (
        "ethics",
        20,
        4.0,
        "¿Cómo preparar la solicitud al comité de ética?",
        "Varios equipos empiezan ahora. Compartamos aquí lo que pide cada comité y los plazos reales.",
        (
            ("e1", None, 5, 6, "En Baltimore tardaron seis semanas. Adjuntad el formulario de consentimiento."),
            ("e2", None, 44, 10, "¿Un estudio retrospectivo de historias clínicas necesita consentimiento?"),
            ("e3", "e2", 8, 12, "Normalmente se pide una exención; el comité decide. Pregunta antes de enviar."),
        ),
    ),
    (
        "residency",
        2,
        1.5,
        "Research experience and residency applications",
        "Several of you asked how research counts when applying for residency. Short answer: a finished "
        "abstract with a clear role beats three half-finished projects. Keep your CRediT roles up to date.",
        (
            ("r1", None, 40, 3, "Does a poster count the same as an oral presentation?"),
            ("r2", "r1", 2, 5, "Both count; say what you did. Programmes read the contribution, not the format."),
            ("r3", None, 38, 7, "Is it worth joining a project at the submission stage?"),
            ("r4", "r3", 22, 9, "Yes: the review and revision work is real work, and it is credited."),
        ),
    ),
)

PIN = (1, 12.0, 0, "Start here: how we read a paper together")  # author, days ago, library index, title
JOURNAL = (  # and its replies, as a topic's
    1,  # author (the journal club's host)
    2.0,  # posted days ago
    -9.0,  # meets in nine days
    1,  # library index of the item read
    "Triage in low-resource settings",
    "We read this short note and discuss it here. Come with one question and one thing you would change.",
    (
        ("j1", None, 12, 5, "Would this triage scale work at night with one nurse on the ward?"),
        ("j2", "j1", 1, 9, "Good question for the session: bring what your hospital does at night."),
        ("j3", None, 42, 20, "I'll join from Cebu. Is the session recorded for those on slow links?"),
        ("j4", "j3", 1, 22, "No recording; the notes go in this thread the same day, a few KB."),
    ),
)

# Research projects. Stages are the eight of spec §3; a stage is (owner, due in days from now, notes, done).
STAGES = project_state.STAGES  # the project fold's own names, one place

PROJECTS = (
    {
        "key": "sepsis",
        "title": "Neonatal sepsis in four district hospitals: a retrospective audit (demo)",
        "about": "Fictional demo project. How quickly do newborns with suspected sepsis receive antibiotics?",
        "days": 70.0,
        "members": {0: "lead", 12: "mentor", 9: "mentor", 37: "peer", 36: "member", 42: "member", ME: "member"},
        "stages": {
            "question": (0, -60, "Time to first antibiotic dose in suspected neonatal sepsis.", True),
            "protocol": (12, -45, "Retrospective chart review, 2024-2025 admissions.", True),
            "ethics": (0, -20, "Waiver of consent granted by all four committees.", True),
            "data": (36, 14, "400 charts, proportional to admissions. 160 done.", False),
            "analysis": (9, 40, "Median time to antibiotics; Kaplan-Meier by hospital.", False),
            "draft": (37, 60, "", False),
            "submission": (0, 80, "Target: a regional paediatrics journal.", False),
            "published": (0, 150, "", False),
        },
        "tasks": (  # title, stage, owner, due in days, state
            ("Pilot the extraction form on 10 charts", "data", 37, -12, "done"),
            ("Train extractors at hospital A", "data", 36, -8, "done"),
            ("Extract charts at hospital A (120)", "data", 36, 5, "doing"),
            ("Extract charts at hospital B (100)", "data", 42, 10, "doing"),
            ("Extract charts at hospital C (90)", "data", ME, 14, "todo"),
            ("Double-check 10% of extractions", "data", 12, 16, "todo"),
            ("Write the analysis plan", "analysis", 9, 20, "doing"),
            ("Clean the data dictionary", "analysis", 37, 22, "todo"),
        ),
        "decisions": (  # by, days ago, text
            (0, 50.0, "Primary outcome: time from admission to first antibiotic dose, in minutes."),
            (12, 8.0, "Sample 400 charts, proportional to each hospital's admissions."),
            (0, 3.0, "Extraction in pairs for the first 20 charts at each hospital."),
        ),
        "credit": {  # person → {role: level}, confirmed by the lead?
            0: ({"conceptualization": "lead", "supervision": "lead", "funding-acquisition": "lead"}, True),
            12: ({"methodology": "lead", "supervision": "supporting"}, True),
            9: ({"formal-analysis": "lead", "methodology": "supporting"}, True),
            37: ({"investigation": "equal", "data-curation": "lead"}, True),
            36: ({"investigation": "equal"}, False),
        },
        "authors": (),
        "files": (),
    },
    {
        "key": "tasksharing",
        "title": "Task sharing in surgery: a scoping review (demo)",
        "about": "Fictional demo project. What is known about non-physician clinicians performing surgery?",
        "days": 240.0,
        "members": {10: "lead", 22: "mentor", 3: "mentor", 43: "peer", 46: "member", 38: "member", ME: "member"},
        "stages": {
            "question": (10, -230, "Scope: task sharing for essential surgery, 2000-2025.", True),
            "protocol": (22, -200, "PRISMA-ScR; protocol registered on a public registry.", True),
            "ethics": (10, -195, "Not needed for a review of published work.", True),
            "data": (43, -120, "2,310 records screened, 74 included.", True),
            "analysis": (22, -60, "Charting by country income group and procedure.", True),
            "draft": (43, -10, "Version 3 agreed by all authors.", True),
            "submission": (10, 5, "Cover letter and reviewer suggestions left.", False),
            "published": (10, 120, "", False),
        },
        "tasks": (
            ("Format references to the journal's style", "submission", 46, -2, "done"),
            ("Write the cover letter", "submission", 10, 2, "doing"),
            ("Suggest three reviewers", "submission", 22, 3, "todo"),
            ("Read the final draft and comment", "submission", ME, 4, "todo"),
        ),
        "decisions": (
            (10, 200.0, "Include grey literature from ministries of health."),
            (22, 90.0, "Exclude obstetric procedures: they deserve their own review."),
            (10, 12.0, "Submit to an open-access global surgery journal."),
        ),
        "credit": {
            10: ({"conceptualization": "lead", "supervision": "lead", "writing-review-editing": "lead"}, True),
            22: ({"methodology": "lead", "validation": "equal"}, True),
            3: ({"validation": "equal", "writing-review-editing": "supporting"}, True),
            43: ({"investigation": "lead", "data-curation": "lead", "writing-original-draft": "lead"}, True),
            46: ({"investigation": "supporting", "visualization": "lead"}, True),
        },
        "authors": ((43, False), (46, False), (22, False), (3, False), (10, True)),  # order, corresponding
        "files": (  # name, [(by, days ago, content)]
            (
                "task-sharing-review-draft.md",
                (
                    (43, 30.0, "draft-v1"),
                    (43, 16.0, "draft-v2"),
                    (22, 10.0, "draft-v3"),
                ),
            ),
        ),
    },
)


def draft_text(version: str) -> bytes:
    """A short, clearly fictional manuscript for a file version."""
    number = version.rsplit("v", 1)[-1]
    lines = [
        f"# Task sharing in surgery: a scoping review (draft {number})",
        "",
        "Fictional demo manuscript written for the Osler demo programme. No real study is described.",
        "",
        "## Background",
        "Many districts have too few surgeons; non-physician clinicians perform essential operations.",
        "",
        "## Methods",
        "Scoping review following PRISMA-ScR. Five databases and grey literature, 2000-2025.",
        "",
        "## Results",
        "74 studies from 19 countries were included." if number != "1" else "Results to be charted.",
        "",
        "## Discussion",
        "Outcomes were comparable for the procedures studied; training and supervision varied widely.",
    ]
    return ("\n".join(lines) + "\n").encode()
