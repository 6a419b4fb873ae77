from .deals import channel_table, deal_summary, deal_table, role_table
from .metrics import (
    STAGE_COLUMNS,
    bands,
    daily_table,
    filling,
    kpis,
    loss_table,
    monthly_growth,
    stage_occupancy,
    stage_table,
)
from .network import (
    NODE_STATES,
    adoption_bands,
    cascades,
    customer_clustering,
    generation_table,
    node_states,
    referral_generations,
)
from .theory_gap import theory_gap
