# The attribute names BundID uses (OID URNs), as pysaml2 attribute map: the test IdP sends
# exactly the names Lotse's [login.saml.attributes] default asks for.
MAP = {
    "identifier": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
    "fro": {
        "urn:oid:1.3.6.1.4.1.25484.494450.3": "pseudonym",
        "urn:oid:2.5.4.42": "given_name",
        "urn:oid:2.5.4.4": "family_name",
        "urn:oid:1.2.40.0.10.2.1.1.55": "birth_date",
        "urn:oid:2.5.4.16": "street",
        "urn:oid:2.5.4.17": "postal_code",
        "urn:oid:2.5.4.7": "city",
        "urn:oid:0.9.2342.19200300.100.1.3": "email",
    },
    "to": {
        "pseudonym": "urn:oid:1.3.6.1.4.1.25484.494450.3",
        "given_name": "urn:oid:2.5.4.42",
        "family_name": "urn:oid:2.5.4.4",
        "birth_date": "urn:oid:1.2.40.0.10.2.1.1.55",
        "street": "urn:oid:2.5.4.16",
        "postal_code": "urn:oid:2.5.4.17",
        "city": "urn:oid:2.5.4.7",
        "email": "urn:oid:0.9.2342.19200300.100.1.3",
    },
}
