from .accounts import (
    KINDS,
    accounts_record,
    accounts_summary,
    customer_table,
    kind_label,
    kind_table,
    loyalty_label,
    share_bands,
    whale_band,
    whale_curve,
    whale_summary,
)
from .deals import channel_table, deal_summary, deal_table, role_table
from .ladder_money import level_spells
from .metrics import kpis
from .network import (
    NODE_STATES,
    adoption_bands,
    cascades,
    customer_clustering,
    generation_table,
    node_states,
    referral_generations,
)
from .segments import (
    SEGMENT_COLUMNS,
    segment_records,
    segment_stages,
    segment_summary,
    segment_table,
)
from .sellers import (
    SellerReport,
    sales_roles,
    seller_report,
    seller_table,
    stage_conversion,
    standout,
)
from .series import bands, daily_table, filling, monthly_growth
from .stages import STAGE_COLUMNS, loss_table, stage_occupancy, stage_table
from .theory_gap import theory_gap
