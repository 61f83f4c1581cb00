from django.urls import path

from accountability import views

app_name = "accountability"

urlpatterns = [
    path("accountability/", views.home, name="home"),
    path("accountability/ranking/", views.ranking, name="ranking"),
    path("accountability/ranking/compute/", views.ranking_compute, name="ranking_compute"),
    path("accountability/ranking/recompute/", views.ranking_recompute, name="ranking_recompute"),
    path("accountability/departments/<int:pk>/", views.department, name="department"),
    path("accountability/orders/", views.orders, name="orders"),
    path("accountability/targets/", views.targets, name="targets"),
    path("accountability/determinations/", views.determination_list, name="determinations"),
    path("accountability/determinations/<int:pk>/", views.determination_detail, name="determination"),
    path("accountability/determinations/<int:pk>/decide/", views.determination_decide, name="determination_decide"),
    path("accountability/determinations/<int:pk>/appeal/", views.determination_appeal, name="determination_appeal"),
    path("accountability/determinations/<int:pk>/rule/", views.determination_rule, name="determination_rule"),
    path("accountability/appeals/", views.appeal_list, name="appeals"),
    path("accountability/deductions/", views.deduction_list, name="deductions"),
    path("accountability/deductions/<int:pk>/", views.deduction_detail, name="deduction"),
    path("accountability/deductions/<int:pk>/appeal/", views.deduction_appeal, name="deduction_appeal"),
    path("accountability/deductions/<int:pk>/rule/", views.deduction_rule, name="deduction_rule"),
    path("accountability/notices/", views.notice_list, name="notices"),
    path("accountability/notices/<int:pk>/", views.notice_detail, name="notice"),
    path("accountability/improvements/", views.improvement_list, name="improvements"),
    path("accountability/improvements/<int:pk>/", views.improvement_detail, name="improvement"),
    path("accountability/improvements/<int:pk>/answer/", views.improvement_answer, name="improvement_answer"),
    path("accountability/improvements/<int:pk>/review/", views.improvement_review, name="improvement_review"),
]
