"""Pure algorithms beneath the pipeline stages: no I/O, no database, no settings lookups.

dates (partial dates, ages), nhs (NHS number checksum), names (normalisation, nicknames,
phonetic keys), postcode (UK postcode units), injury (ICD-10 / SNOMED CT / free-text injury
classification), weights (Fellegi–Sunter comparison levels).
"""
