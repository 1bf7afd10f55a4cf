"""Value pools for the synthetic world: names, places and clinical codes.

Every person the generator makes is fictional: names are drawn independently from common
given-name and family-name lists, towns and streets are invented, and postcodes use the
letters Q and X as area codes, which no real UK postcode area starts with. Name lists carry
Zipf-like weights so that some names are common and others rare, as in a real register.
"""

from __future__ import annotations

GIRL_NAMES = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Rosie", "Sophia",
    "Grace", "Freya", "Willow", "Florence", "Emily", "Ella", "Poppy", "Evie", "Elsie", "Charlotte",
    "Evelyn", "Sienna", "Sofia", "Daisy", "Phoebe", "Sophie", "Alice", "Harper", "Matilda",
    "Ruby", "Emilia", "Maya", "Millie", "Isabelle", "Hallie", "Eliza", "Esme", "Maisie", "Ayla",
    "Chloé", "Zoë", "Renée", "Siân", "Niamh", "Aoife", "Megan", "Jessica", "Hannah", "Lucy",
    "Katherine", "Elizabeth", "Margaret", "Abigail", "Victoria", "Rebecca", "Samantha",
    "Jennifer", "Rachel", "Bethany", "Leah", "Holly", "Courtney", "Chelsea", "Jade", "Keira",
    "Summer", "Scarlett", "Violet", "Aurora", "Iris", "Nancy", "Edith", "Martha", "Beatrice",
    "Harriet", "Imogen", "Tilly", "Lola", "Layla", "Amber", "Erin", "Caitlin", "Lauren", "Kayla",
    "Nicole", "Amy", "Zara", "Aisha", "Fatima", "Maryam", "Amira", "Priya", "Anya", "Nadia",
    "Georgia", "Tegan", "Bronwen", "Ffion", "Morven", "Eilidh", "Orla", "Saoirse", "Kirsty",
    "Christina", "Alexandra", "Josephine", "Susannah", "Penelope", "Frances", "Theodora",
    "Gabriella", "Annabel", "Natalie", "Jacqueline", "Deborah", "Patricia", "Dorothy", "Eleanor",
)
BOY_NAMES = (
    "Muhammad", "Noah", "Oliver", "George", "Leo", "Arthur", "Oscar", "Theodore", "Freddie",
    "Archie", "Henry", "Alfie", "Charlie", "Luca", "Theo", "Jack", "Finley", "Thomas", "Harry",
    "Jacob", "Isaac", "Tommy", "Albie", "Edward", "Arlo", "Lucas", "Mason", "Teddy", "Reggie",
    "Joshua", "Hunter", "Ronnie", "Rory", "Louie", "Elijah", "Max", "Ezra", "Jude", "Harrison",
    "William", "James", "Alexander", "Daniel", "Samuel", "Joseph", "Benjamin", "Matthew",
    "Christopher", "Michael", "Robert", "Richard", "Jonathan", "Nicholas", "Anthony", "Andrew",
    "Timothy", "Patrick", "Stephen", "Peter", "David", "Nathaniel", "Zachary", "Frederick",
    "Lewis", "Callum", "Kieran", "Connor", "Declan", "Ryan", "Liam", "Tyler", "Bradley", "Jordan",
    "Kyle", "Dylan", "Ethan", "Logan", "Jayden", "Caleb", "Aaron", "Adam", "Ben", "Sam",
    "Ibrahim", "Yusuf", "Omar", "Ali", "Hamza", "Ayaan", "Arjun", "Rohan", "Kacper", "Jakub",
    "José", "Mateo", "Rhys", "Gethin", "Dafydd", "Cian", "Oisín", "Seán", "Euan", "Fraser",
    "Angus", "Struan", "Ruaridh", "Douglas", "Gregory", "Vincent", "Leonard", "Stanley",
    "Raymond", "Gordon", "Kenneth", "Dominic", "Sebastian", "Tobias", "Barnaby", "Jasper",
)
FAMILY_NAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
    "Jackson", "Clarke", "Patel", "Khan", "Lewis", "James", "Phillips", "Mason", "Mitchell",
    "Rose", "Davis", "Rodriguez", "Cox", "Alexander", "Morgan", "Moore", "Mills", "King",
    "Adams", "Garcia", "White", "Hughes", "Edwards", "Hill", "Moore", "Clark", "Harrison",
    "Scott", "Young", "Morris", "Hall", "Ward", "Turner", "Carter", "Phillips", "Baker",
    "Cooper", "Parker", "Bennett", "Cook", "Shaw", "Richardson", "Bailey", "Collins", "Marshall",
    "Chapman", "Webb", "Rogers", "Gray", "Mason", "Palmer", "Fisher", "Holmes", "Lloyd",
    "Murray", "Owen", "Knight", "Butler", "Barker", "Stevens", "Dixon", "Russell", "Pearson",
    "Hunt", "Hudson", "Fletcher", "Sutton", "Lawrence", "Kelly", "Kennedy", "Lowe", "Reid",
    "Gibson", "Ellis", "Burton", "Fox", "Dawson", "Nicholson", "Hart", "Ross", "Graham",
    "O'Brien", "O'Connor", "McDonald", "MacLeod", "McKenzie", "O'Neill", "D'Souza", "Van Dyke",
    "De Souza", "St John", "Le Roux", "Fitzgerald", "Ó Briain", "Müller", "Nowak", "Kowalski",
    "Wiśniewski", "Popescu", "Hussain", "Ahmed", "Begum", "Rahman", "Singh", "Kaur", "Sharma",
    "Okafor", "Mensah", "Adeyemi", "Nguyen", "Chen", "Wang", "Kim", "Santos", "Silva", "Costa",
    "Ferreira", "Rossi", "Russo", "Novak", "Horvath", "Kovacs", "Ivanova", "Petrov", "Andersen",
    "Larsen", "Jensen", "Nielsen", "Brennan", "Doherty", "Gallagher", "Quinn", "Byrne",
    "Walsh", "Murphy", "Ryan", "Lynch", "Griffiths", "Pritchard", "Vaughan", "Powell", "Rees",
    "Price", "Howells", "Bevan", "Probert", "Cadwallader", "Blackwood", "Thistlewood",
    "Ashdown", "Fairweather", "Merriweather", "Winterbottom", "Sidebottom", "Oakenshaw",
    "Hollingsworth", "Rowbotham", "Greenhalgh", "Ormerod", "Entwistle", "Heywood", "Pickles",
    "Crabtree", "Sugden", "Ackroyd", "Hirst", "Lockwood", "Haigh", "Broadbent", "Sunderland",
)
# Syllables for the long tail of rarer family names ("Ashworth", "Kingsmere", ...).
SURNAME_STARTS = ("Ash", "Black", "Brad", "Bram", "Cal", "Chad", "Dun", "Fair", "Hather", "Kings",
                  "Mor", "North", "Pen", "Rad", "Stan", "Whit", "Wood", "Hal", "Mar", "Lang",
                  "Holm", "Brook", "Thorn", "Wen", "Ed", "Al", "Crom", "Har", "Gold", "Fern")
SURNAME_ENDS = ("ley", "ton", "wood", "worth", "ham", "field", "ford", "by", "more", "well",
                "combe", "stead", "bury", "mere", "hurst", "wick", "den", "low", "shaw", "cliffe",
                "dale", "gate", "thwaite", "ridge", "brook", "croft", "land", "win", "ling", "sey")

STREETS = (
    "Birch", "Fern", "Heron", "Willow", "Larch", "Rowan", "Hazel", "Alder", "Elm", "Maple",
    "Juniper", "Kestrel", "Linnet", "Plover", "Curlew", "Meadow", "Orchard", "Brook", "Mill",
    "Church", "Station", "Chapel", "Quarry", "Tannery", "Foundry", "Lantern", "Saddler",
    "Cooper", "Weaver", "Chandler", "Thatcher", "Harbour", "Beacon", "Warren", "Sorrel",
)
STREET_KINDS = ("Road", "Close", "Way", "Lane", "Street", "Avenue", "Crescent", "Grove", "Court")
TOWNS = (("Northmere", "QA"), ("Eastbridge", "QB"), ("Westholm", "QX"), ("Southwick Fen", "XA"))
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# (code, text, kind) — ICD-10 injury codes of the contract's S00–T14 and T20–T32 ranges.
INJURY_ICD10 = (
    ("S00.0", "Superficial injury of scalp", "superficial"),
    ("S00.1", "Contusion of eyelid and periocular area", "superficial"),
    ("S00.4", "Superficial injury of ear", "superficial"),
    ("S00.5", "Superficial injury of lip and oral cavity", "superficial"),
    ("S00.8", "Superficial injury of other parts of head", "superficial"),
    ("S01.0", "Open wound of scalp", "wound"),
    ("S01.4", "Open wound of cheek", "wound"),
    ("S02.0", "Fracture of vault of skull", "fracture"),
    ("S06.0", "Concussion", "intracranial"),
    ("S06.5", "Traumatic subdural haemorrhage", "intracranial"),
    ("S09.9", "Unspecified injury of head", "other"),
    ("S20.2", "Contusion of thorax", "superficial"),
    ("S30.1", "Contusion of abdominal wall", "superficial"),
    ("S40.0", "Contusion of shoulder and upper arm", "superficial"),
    ("S42.0", "Fracture of clavicle", "fracture"),
    ("S42.2", "Fracture of upper end of humerus", "fracture"),
    ("S52.5", "Fracture of lower end of radius", "fracture"),
    ("S60.0", "Contusion of finger", "superficial"),
    ("S61.0", "Open wound of finger", "wound"),
    ("S63.5", "Sprain of wrist", "sprain"),
    ("S72.3", "Fracture of shaft of femur", "fracture"),
    ("S80.0", "Contusion of knee", "superficial"),
    ("S82.2", "Fracture of shaft of tibia", "fracture"),
    ("S90.0", "Contusion of ankle", "superficial"),
    ("S93.4", "Sprain of ankle", "sprain"),
    ("T14.0", "Superficial injury of unspecified body region", "superficial"),
    ("T20.1", "Burn of first degree of head and neck", "burn"),
    ("T23.2", "Burn of second degree of wrist and hand", "burn"),
)
INJURY_SNOMED = (
    ("125667009", "Contusion"),
    ("312608009", "Laceration"),
    ("125605004", "Fracture of bone"),
    ("82271004", "Injury of head"),
)
INJURY_TEXT = ("bruise to cheek", "fell from sofa, bump to head", "cut finger", "twisted ankle",
               "burn to hand from kettle", "fall in playground, sore wrist")
OTHER_ICD10 = (
    ("J06.9", "Acute upper respiratory infection"), ("R50.9", "Fever, unspecified"),
    ("A09.9", "Gastroenteritis"), ("J45.9", "Asthma"), ("R10.4", "Abdominal pain"),
    ("L03.9", "Cellulitis"), ("H66.9", "Otitis media"), ("R56.0", "Febrile convulsion"),
    ("J21.9", "Acute bronchiolitis"), ("R11", "Vomiting"), ("T78.4", "Allergy, unspecified"),
)
OTHER_TEXT = ("high temperature", "difficulty breathing", "rash", "vomiting and diarrhoea")

PLAN_CATEGORIES = ("neglect", "physical abuse", "emotional abuse", "sexual abuse",
                   "multiple categories")
LOCAL_AUTHORITIES = ("Northmere Borough Council", "Eastbridge City Council",
                     "Westholm County Council")


def family_names() -> tuple[str, ...]:
    """Common family names first, then a long tail of rarer ones."""
    tail = sorted({a + b for a in SURNAME_STARTS for b in SURNAME_ENDS} - set(FAMILY_NAMES))
    return tuple(dict.fromkeys(FAMILY_NAMES + tuple(tail)))


def zipf_weights(n: int, exponent: float = 0.9) -> list[float]:
    """Weights 1/rank^exponent: the first names in a list are the common ones."""
    return [1.0 / (rank ** exponent) for rank in range(1, n + 1)]

# Adult presentations that should make an ED think of the children at home (Think Family):
# ICD-10 X60–X84 intentional self-harm, T36–T50 poisoning by drugs, T51 alcohol, F10–F19
# substance use, T74 maltreatment (here: an adult victim of domestic abuse), Y07 perpetrator.
THINK_FAMILY_ICD10 = (
    ("X61", "Intentional self-poisoning by psychotropic drugs"),
    ("T39.1", "Poisoning by paracetamol (overdose)"),
    ("T42.4", "Poisoning by benzodiazepines"),
    ("X78", "Intentional self-harm by sharp object"),
    ("F10.0", "Mental and behavioural disorders due to alcohol: acute intoxication"),
    ("T51.0", "Toxic effect of ethanol"),
    ("F11.0", "Mental and behavioural disorders due to opioids: acute intoxication"),
    ("T74.1", "Physical abuse (domestic abuse disclosed)"),
)
THINK_FAMILY_TEXT = ("took an overdose", "domestic abuse, assaulted by partner", "intoxicated",
                     "self-harm")
ADULT_OTHER_ICD10 = (
    ("R07.4", "Chest pain, unspecified"), ("J18.9", "Pneumonia, unspecified"),
    ("N39.0", "Urinary tract infection"), ("R51", "Headache"), ("K35.8", "Acute appendicitis"),
    ("M54.5", "Low back pain"), ("R55", "Syncope and collapse"),
)
ADULT_OTHER_TEXT = ("chest pain", "migraine", "abdominal pain", "shortness of breath")
