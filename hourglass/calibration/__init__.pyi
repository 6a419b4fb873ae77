from .btyd import fit_bgnbd, fit_gamma_gamma, repeat_tracking, rfm_summary
from .crm import detect_preset, read_deals, read_transactions
from .export import export_deals, export_transactions
from .fit import Calibration, calibrate
from .mapping import CRM_PRESETS, CrmMapping, DataError, load_mapping
from .reading import MAX_CSV_BYTES, decode, read_bytes, read_table
from .report import report_markdown
from .tables import repeat_fits, seller_fits, stage_fits
