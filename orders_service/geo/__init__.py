"""Administrative units, province centroids, delivery zones and an offline province geocoder."""

from orders_service.geo.geocoder import (
    NEAR_KM,
    ProvinceGeocoder,
    Warehouse,
    Zone,
    distance_km,
    match_province,
    province_centroid,
    zone,
)
from orders_service.geo.units import (
    AddressError,
    Units,
    find_ward,
    fold,
    province_name,
    provinces,
    resolve_units,
    wards,
)

__all__ = [
    "NEAR_KM",
    "AddressError",
    "ProvinceGeocoder",
    "Units",
    "Warehouse",
    "Zone",
    "distance_km",
    "find_ward",
    "fold",
    "match_province",
    "province_centroid",
    "province_name",
    "provinces",
    "resolve_units",
    "wards",
    "zone",
]
