from .accounts import account_map_figure, whale_figure
from .budgets import allocation_figure, response_figure
from .calibration import duration_figure, pass_prob_figure, repeat_tracking_figure
from .deals import cycle_figure, role_figure
from .framing import footed, for_projector
from .funnel import hourglass_animation, hourglass_figure, sankey_figure, theory_svg
from .network import adoption_figure, network_figure, referral_chain_figure
from .segments import segment_profit_figure
from .sellers import seller_conversion_figure, utilization_figure
from .series import band_figure, conversion_bars, delta_figure, overlay_figure
